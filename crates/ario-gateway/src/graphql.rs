//! Gateway GraphQL, for discovery only (never proof): who uploaded an item,
//! and which items carry given tags.

use tokio::time::Instant;

use ario_http as http;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::config::GatewayConfig;
use crate::fetch::GatewayReader;

/// Largest GraphQL answer read.
const MAX_ANSWER_BYTES: u64 = 4 * 1024 * 1024;
/// Items asked for per page.
const PAGE: usize = 100;

/// One transaction or data item as GraphQL describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxInfo {
    /// Its id.
    pub id: String,
    /// The normalized owner address.
    pub owner_address: String,
    /// Its tags, in order.
    pub tags: Vec<(String, String)>,
    /// Block height, once mined (`None` while pending).
    pub block_height: Option<u64>,
    /// Block time (Unix seconds), once mined.
    pub block_timestamp: Option<u64>,
}

impl TxInfo {
    /// The first value of a tag.
    pub fn tag(&self, name: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// No gateway answered the query.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("GraphQL query failed across {} gateway(s): {}", causes.len(), causes.iter().map(|(g, c)| format!("{g}: {c}")).collect::<Vec<_>>().join(" | "))]
pub struct GraphqlError {
    /// Gateway and what went wrong there.
    pub causes: Vec<(String, String)>,
}

const NODE: &str = "id owner { address } tags { name value } block { height timestamp }";

fn tx_info(node: &Value) -> Option<TxInfo> {
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(str::to_owned);
    let block = node.get("block").filter(|b| b.is_object());
    let num = |k: &str| block.and_then(|b| b.get(k)).and_then(Value::as_u64);
    Some(TxInfo {
        id: s(node, "id")?,
        owner_address: s(node.get("owner")?, "address")?,
        tags: node
            .get("tags")
            .and_then(Value::as_array)
            .map(|t| {
                t.iter()
                    .filter_map(|t| Some((s(t, "name")?, s(t, "value")?)))
                    .collect()
            })
            .unwrap_or_default(),
        block_height: num("height"),
        block_timestamp: num("timestamp"),
    })
}

impl GatewayReader {
    async fn graphql(&self, query: &str, variables: Value) -> Result<Value, GraphqlError> {
        let cfg = self.config();
        let deadline = Instant::now() + cfg.fetch_deadline;
        let body = json!({"query": query, "variables": variables});
        let mut causes = Vec::new();
        for gw in &cfg.gateways {
            let url = format!("{}/graphql", GatewayConfig::gateway_base(gw));
            let answer = async {
                let resp = http::send(&cfg.retry, cfg.fetch_timeout, deadline, || {
                    self.http().post(&url).json(&body)
                })
                .await
                .map_err(|e| e.to_string())?;
                if resp.status() != StatusCode::OK {
                    return Err(format!("HTTP {}", resp.status().as_u16()));
                }
                let bytes = http::read_capped(resp, MAX_ANSWER_BYTES)
                    .await
                    .map_err(|e| e.to_string())?;
                let v: Value = serde_json::from_slice(&bytes).map_err(|e| e.to_string())?;
                match v.get("data") {
                    Some(d) if !d.is_null() => Ok(d.clone()),
                    _ => Err(format!(
                        "no data: {}",
                        v.get("errors").unwrap_or(&Value::Null)
                    )),
                }
            }
            .await;
            match answer {
                Ok(d) => return Ok(d),
                Err(c) => causes.push((gw.clone(), c)),
            }
        }
        Err(GraphqlError { causes })
    }

    /// One transaction by id (`None`: not indexed).
    pub async fn transaction(&self, id: &str) -> Result<Option<TxInfo>, GraphqlError> {
        let q = format!("query($id: ID!) {{ transaction(id: $id) {{ {NODE} }} }}");
        let d = self.graphql(&q, json!({"id": id})).await?;
        Ok(d.get("transaction").and_then(tx_info))
    }

    /// Every indexed item carrying all the given tags (each with any of its
    /// values), oldest first, up to `max` items.
    pub async fn transactions_tagged(
        &self,
        tags: &[(&str, &[&str])],
        max: usize,
    ) -> Result<Vec<TxInfo>, GraphqlError> {
        let filters: Vec<Value> = tags
            .iter()
            .map(|(n, v)| json!({"name": n, "values": v}))
            .collect();
        let q = format!(
            "query($tags: [TagFilter!], $after: String, $first: Int) {{ transactions(tags: $tags, after: $after, first: $first, sort: HEIGHT_ASC) {{ pageInfo {{ hasNextPage }} edges {{ cursor node {{ {NODE} }} }} }} }}"
        );
        let mut out = Vec::new();
        let mut after = Value::Null;
        while out.len() < max {
            let d = self
                .graphql(&q, json!({"tags": filters, "after": after, "first": PAGE}))
                .await?;
            let page = d.get("transactions").unwrap_or(&Value::Null);
            let edges = page
                .get("edges")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            out.extend(edges.iter().filter_map(|e| e.get("node").and_then(tx_info)));
            let more = page
                .pointer("/pageInfo/hasNextPage")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            match edges.last().and_then(|e| e.get("cursor")) {
                Some(c) if more => after = c.clone(),
                _ => break,
            }
        }
        out.truncate(max);
        Ok(out)
    }
}
