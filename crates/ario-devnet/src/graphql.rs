//! The subset of the gateway GraphQL schema used to find items by id, owner and tag.

use std::sync::{Arc, LazyLock};

use ario_envelope::encoding::{b64url_decode, b64url_encode};
use async_graphql::{
    Context, EmptyMutation, EmptySubscription, Enum, InputObject, Object, Schema, SimpleObject, ID,
};
use axum::extract::State;
use axum::Json;
use serde_json::Value;

use crate::{DevnetState, Stored};

type DevnetSchema = Schema<Query, EmptyMutation, EmptySubscription>;

static SCHEMA: LazyLock<DevnetSchema> =
    LazyLock::new(|| Schema::build(Query, EmptyMutation, EmptySubscription).finish());

pub(super) async fn handle(
    State(state): State<Arc<DevnetState>>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let query = body
        .get("query")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned();
    let mut req = async_graphql::Request::new(query).data(state);
    if let Some(vars) = body.get("variables").filter(|v| v.is_object()) {
        req = req.variables(async_graphql::Variables::from_json(vars.clone()));
    }
    if let Some(op) = body.get("operationName").and_then(Value::as_str) {
        req = req.operation_name(op);
    }
    let resp = SCHEMA.execute(req).await;
    Json(serde_json::to_value(&resp).unwrap_or(Value::Null))
}

/// Tag filter operator.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
enum TagOperator {
    Eq,
    Neq,
}

/// Result order.
#[derive(Enum, Copy, Clone, Eq, PartialEq)]
enum SortOrder {
    HeightDesc,
    HeightAsc,
}

/// `{name, values, op}`: several values are ORed, several filters ANDed.
#[derive(InputObject)]
struct TagFilter {
    name: String,
    values: Vec<String>,
    op: Option<TagOperator>,
}

#[derive(SimpleObject)]
struct Owner {
    address: String,
    key: String,
}

#[derive(SimpleObject)]
struct Amount {
    winston: String,
    ar: String,
}

#[derive(SimpleObject)]
struct MetaData {
    size: String,
    #[graphql(name = "type")]
    content_type: Option<String>,
}

#[derive(SimpleObject)]
struct TagObj {
    name: String,
    value: String,
}

#[derive(SimpleObject)]
struct Block {
    id: ID,
    timestamp: i64,
    height: i64,
    previous: ID,
}

#[derive(SimpleObject)]
struct Bundle {
    id: ID,
}

#[derive(SimpleObject)]
struct Transaction {
    id: ID,
    anchor: String,
    signature: String,
    recipient: String,
    owner: Owner,
    fee: Amount,
    quantity: Amount,
    data: MetaData,
    tags: Vec<TagObj>,
    block: Option<Block>,
    bundled_in: Option<Bundle>,
}

#[derive(SimpleObject)]
struct PageInfo {
    has_next_page: bool,
}

#[derive(SimpleObject)]
struct TransactionEdge {
    cursor: String,
    node: Transaction,
}

#[derive(SimpleObject)]
struct TransactionConnection {
    page_info: PageInfo,
    edges: Vec<TransactionEdge>,
}

fn zero() -> Amount {
    Amount {
        winston: "0".into(),
        ar: "0.000000000000".into(),
    }
}

fn to_tx(s: &Stored) -> Transaction {
    let i = &s.item;
    let height = i64::try_from(s.height).unwrap_or(i64::MAX);
    Transaction {
        id: ID(s.id.clone()),
        anchor: i.anchor.map(|a| b64url_encode(&a)).unwrap_or_default(),
        signature: b64url_encode(&i.signature),
        recipient: i.target.map(|t| b64url_encode(&t)).unwrap_or_default(),
        owner: Owner {
            address: s.owner_address.clone(),
            key: b64url_encode(&i.owner),
        },
        fee: zero(),
        quantity: zero(),
        data: MetaData {
            size: i.data.len().to_string(),
            content_type: Some(s.content_type().to_owned()),
        },
        tags: i
            .tags
            .iter()
            .map(|t| TagObj {
                name: t.name.clone(),
                value: t.value.clone(),
            })
            .collect(),
        block: Some(Block {
            id: ID(format!("devnet-block-{}", s.height)),
            timestamp: i64::try_from(s.timestamp / 1000).unwrap_or(0),
            height,
            previous: ID(format!("devnet-block-{}", s.height.saturating_sub(1))),
        }),
        bundled_in: Some(Bundle {
            id: ID(format!("devnet-bundle-{}", s.height)),
        }),
    }
}

fn matches(
    s: &Stored,
    ids: &Option<Vec<ID>>,
    owners: &Option<Vec<String>>,
    tags: &Option<Vec<TagFilter>>,
) -> bool {
    if ids
        .as_ref()
        .is_some_and(|ids| !ids.iter().any(|id| id.0 == s.id))
    {
        return false;
    }
    if owners
        .as_ref()
        .is_some_and(|o| !o.contains(&s.owner_address))
    {
        return false;
    }
    tags.as_ref().is_none_or(|filters| {
        filters.iter().all(|f| {
            let hit = s
                .item
                .tags
                .iter()
                .any(|t| t.name == f.name && f.values.contains(&t.value));
            match f.op.unwrap_or(TagOperator::Eq) {
                TagOperator::Eq => hit,
                TagOperator::Neq => !hit,
            }
        })
    })
}

struct Query;

#[Object]
impl Query {
    /// One item by id.
    async fn transaction(&self, ctx: &Context<'_>, id: ID) -> Option<Transaction> {
        let state = ctx.data_opt::<Arc<DevnetState>>()?;
        state.store.get(&id.0).as_ref().map(to_tx)
    }

    /// Items filtered by ids, owners and tags, paged by cursor.
    #[allow(clippy::too_many_arguments)]
    async fn transactions(
        &self,
        ctx: &Context<'_>,
        ids: Option<Vec<ID>>,
        owners: Option<Vec<String>>,
        tags: Option<Vec<TagFilter>>,
        #[graphql(default = 10)] first: i32,
        after: Option<String>,
        sort: Option<SortOrder>,
    ) -> TransactionConnection {
        let Some(state) = ctx.data_opt::<Arc<DevnetState>>() else {
            return TransactionConnection {
                page_info: PageInfo {
                    has_next_page: false,
                },
                edges: vec![],
            };
        };
        let mut all: Vec<Stored> = state
            .store
            .all()
            .into_iter()
            .filter(|s| matches(s, &ids, &owners, &tags))
            .collect();
        if sort.unwrap_or(SortOrder::HeightDesc) == SortOrder::HeightDesc {
            all.reverse();
        }
        let start = after
            .and_then(|c| b64url_decode(&c).ok())
            .and_then(|b| String::from_utf8(b).ok())
            .and_then(|id| all.iter().position(|s| s.id == id))
            .map_or(0, |p| p + 1);
        let first = usize::try_from(first.clamp(0, 1000)).unwrap_or(10);
        let page: Vec<TransactionEdge> = all
            .iter()
            .skip(start)
            .take(first)
            .map(|s| TransactionEdge {
                cursor: b64url_encode(s.id.as_bytes()),
                node: to_tx(s),
            })
            .collect();
        TransactionConnection {
            page_info: PageInfo {
                has_next_page: start + page.len() < all.len(),
            },
            edges: page,
        }
    }
}
