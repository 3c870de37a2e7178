//! The MLflow side of reconciliation: runs, versions, aliases, the
//! transaction tags they carry, and orphan anchors on the gateways.

use std::collections::BTreeSet;

use ario_gateway::turbo::APP_NAME;
use ario_mlflow_client::generated::types;
use ario_mlflow_client::records::{run_tags, version_tags};

use super::{Finding, Reconciliation, MAX_OBJECTS};
use crate::error::ProvenanceError;
use crate::event::{EventKind, Subject, SubjectType};
use crate::layout::{payload_hash_tag, tx_tag, ITEM_SUBJECT_ID, ITEM_SUBJECT_TYPE};
use crate::verifier::Verifier;

impl Verifier {
    pub(super) async fn experiment_id(&self, name_or_id: &str) -> Result<String, ProvenanceError> {
        let c = self.mlflow();
        let n = name_or_id.to_owned();
        match c
            .call(|api| {
                let n = n.clone();
                async move { api.get_experiment_by_name(&n).await }
            })
            .await
        {
            Ok(r) => Ok(r
                .experiment
                .and_then(|e| e.experiment_id)
                .unwrap_or_else(|| name_or_id.to_owned())),
            Err(e) if e.is_not_found() && name_or_id.bytes().all(|b| b.is_ascii_digit()) => {
                Ok(name_or_id.to_owned())
            }
            Err(e) => Err(e.into()),
        }
    }

    pub(super) async fn finished_runs(
        &self,
        experiment_id: &str,
        since_ms: Option<i64>,
    ) -> Result<Vec<types::Run>, ProvenanceError> {
        let mut filter = "attributes.status = 'FINISHED'".to_owned();
        if let Some(s) = since_ms {
            filter.push_str(&format!(" AND attributes.start_time >= {s}"));
        }
        let mut runs = Vec::new();
        let mut token: Option<String> = None;
        loop {
            let body = types::SearchRunsBody {
                experiment_ids: vec![experiment_id.to_owned()],
                filter: Some(filter.clone()),
                max_results: Some(1000),
                order_by: vec![],
                page_token: token.clone(),
                run_view_type: Some("ACTIVE_ONLY".into()),
            };
            let page = self
                .mlflow()
                .call(|api| {
                    let b = body.clone();
                    async move { api.search_runs(&b).await }
                })
                .await?;
            runs.extend(page.runs);
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(t) if runs.len() < MAX_OBJECTS => token = Some(t),
                _ => break,
            }
        }
        Ok(runs)
    }

    pub(super) async fn reconcile_run(
        &self,
        run: &types::Run,
        experiment_id: &str,
        out: &mut Reconciliation,
    ) -> Result<(), ProvenanceError> {
        let Some(run_id) = run.info.as_ref().and_then(|i| i.run_id.clone()) else {
            return Ok(());
        };
        let tags = run_tags(run);
        match tags.get(tx_tag(EventKind::Training)) {
            Some(tx) => {
                let subject = Subject::Run {
                    run_id: run_id.clone(),
                };
                self.check_tag(&subject, tx_tag(EventKind::Training), tx, out)
                    .await;
            }
            // Signed by someone whose upload is still pending: not missing.
            None if tags.contains_key(payload_hash_tag(EventKind::Training)) => {}
            None => {
                if !self.mlflow().run_model_locations(run).await?.is_empty() {
                    out.findings.push(Finding::RunNotAnchored {
                        run_id,
                        experiment_id: experiment_id.to_owned(),
                    });
                }
            }
        }
        Ok(())
    }

    pub(super) async fn versions(
        &self,
        models: &[String],
    ) -> Result<Vec<types::ModelVersion>, ProvenanceError> {
        let filters: Vec<Option<String>> = if models.is_empty() {
            vec![None]
        } else {
            models
                .iter()
                .map(|m| Some(format!("name = '{}'", m.replace('\'', "\\'"))))
                .collect()
        };
        let mut all = Vec::new();
        for f in filters {
            let mut token: Option<String> = None;
            loop {
                let page = self
                    .mlflow()
                    .call(|api| {
                        let (f, t) = (f.clone(), token.clone());
                        async move {
                            api.search_model_versions(f.as_deref(), Some(1000), t.as_deref())
                                .await
                        }
                    })
                    .await?;
                all.extend(page.model_versions);
                match page.next_page_token.filter(|t| !t.is_empty()) {
                    Some(t) if all.len() < MAX_OBJECTS => token = Some(t),
                    _ => break,
                }
            }
        }
        Ok(all)
    }

    pub(super) async fn reconcile_version(
        &self,
        mv: &types::ModelVersion,
        name: &str,
        version: &str,
        out: &mut Reconciliation,
    ) {
        let tags = version_tags(mv);
        let subject = Subject::ModelVersion {
            name: name.into(),
            version: version.into(),
        };
        match tags.get(tx_tag(EventKind::Registration)) {
            Some(tx) => {
                self.check_tag(&subject, tx_tag(EventKind::Registration), tx, out)
                    .await
            }
            None if tags.contains_key(payload_hash_tag(EventKind::Registration)) => {}
            None => out.findings.push(Finding::VersionNotAnchored {
                name: name.into(),
                version: version.into(),
                source: mv.source.clone().unwrap_or_default(),
                run_id: mv.run_id.clone().filter(|r| !r.is_empty()),
            }),
        }
    }

    /// Aliases (read from each registered model: version searches do not
    /// carry them) on versions that carry no alias anchor.
    pub(super) async fn reconcile_aliases(
        &self,
        versions: &[types::ModelVersion],
        out: &mut Reconciliation,
    ) -> Result<(), ProvenanceError> {
        let names: BTreeSet<&str> = versions.iter().filter_map(|v| v.name.as_deref()).collect();
        for name in names {
            let model = match self.mlflow().registered_model(name).await {
                Ok(m) => m,
                Err(e) if e.is_not_found() => continue,
                Err(e) => return Err(e.into()),
            };
            for a in &model.aliases {
                let (Some(alias), Some(version)) = (&a.alias, &a.version) else {
                    continue;
                };
                out.checked.aliases += 1;
                let anchored = versions
                    .iter()
                    .find(|v| {
                        v.name.as_deref() == Some(name) && v.version.as_ref() == Some(version)
                    })
                    .is_some_and(|v| version_tags(v).contains_key(tx_tag(EventKind::AliasSet)));
                if !anchored {
                    out.findings.push(Finding::AliasNotAnchored {
                        name: name.into(),
                        alias: alias.clone(),
                        version: version.clone(),
                    });
                }
            }
        }
        Ok(())
    }

    /// Fetches the envelope a transaction tag names and checks its subject.
    pub(super) async fn check_tag(
        &self,
        subject: &Subject,
        tag: &str,
        tx: &str,
        out: &mut Reconciliation,
    ) {
        out.checked.tags += 1;
        let object = match subject {
            Subject::Run { run_id } => format!("run:{run_id}"),
            other => format!("model:{}", other.discovery_id()),
        };
        let env = match self.reader().fetch_envelope(tx).await {
            Ok(f) => f.json(),
            Err(e) => {
                out.undetermined
                    .push(format!("{object}: {tag} {tx} not fetched: {e}"));
                return;
            }
        };
        let found = env
            .ok()
            .and_then(|v| Subject::from_json(v.get("subject")).ok());
        match found {
            Some(s) if &s == subject => {}
            other => out.findings.push(Finding::TagMismatch {
                object,
                tag: tag.into(),
                tx_id: tx.into(),
                detail: match other {
                    Some(s) => format!("the envelope is about {}", s.discovery_id()),
                    None => "the transaction holds no readable envelope subject".into(),
                },
            }),
        }
    }

    /// Registration anchors on the gateways whose version MLflow no longer has.
    pub(super) async fn orphans(
        &self,
        models: &[String],
        known: &BTreeSet<String>,
        out: &mut Reconciliation,
    ) {
        if models.is_empty() {
            // Anchors on the gateways are not scoped to one MLflow server:
            // without model names every other team's anchor would look orphaned.
            out.undetermined
                .push("orphan search needs the registered models to look for".into());
            return;
        }
        let kind = EventKind::Registration;
        let found = self
            .reader()
            .transactions_tagged(
                &[
                    ("App-Name", &[APP_NAME]),
                    ("Event-Type", &[kind.wire_name()]),
                ],
                MAX_OBJECTS,
            )
            .await;
        let found = match found {
            Ok(f) => f,
            Err(e) => {
                out.undetermined.push(format!("orphan search: {e}"));
                return;
            }
        };
        for t in found {
            out.checked.anchors += 1;
            let Some(id) = t.tag(ITEM_SUBJECT_ID).map(str::to_owned) else {
                continue;
            };
            if t.tag(ITEM_SUBJECT_TYPE)
                .is_some_and(|s| s != SubjectType::ModelVersion.wire_name())
            {
                continue;
            }
            let in_scope = models.iter().any(|m| {
                id.strip_prefix(m.as_str())
                    .is_some_and(|r| r.starts_with('/'))
            });
            if in_scope && !known.contains(&id) {
                out.findings.push(Finding::Orphan {
                    tx_id: t.id.clone(),
                    event_type: kind.wire_name().into(),
                    subject: id,
                });
            }
        }
    }
}
