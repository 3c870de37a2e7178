//! Every operation of spec/mlflow/openapi.yaml against a real MLflow server;
//! every response must deserialize into the generated types.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use ario_mlflow_client::generated::types;
use ario_mlflow_client::{MlflowClient, MlflowError, TrackingConfig};
use ario_test_support::unique;
use serde_json::{json, Value};

fn body<T: serde::de::DeserializeOwned>(v: Value) -> T {
    serde_json::from_value(v).unwrap()
}

fn client() -> Option<MlflowClient> {
    let server = ario_test_support::mlflow()?;
    Some(MlflowClient::new(TrackingConfig::new(server.url()).unwrap()).unwrap())
}

/// True when the test server is MLflow 2.x (no LoggedModels, v3 traces or webhooks).
fn two_x() -> bool {
    ario_test_support::mlflow().is_some_and(|s| s.version().starts_with("2."))
}

/// A 3.x-only route on a 2.x server: an HTML 404, typed as "route missing".
fn assert_route_missing<T: std::fmt::Debug>(r: Result<T, MlflowError>) {
    match r {
        Err(MlflowError::Http { status: 404 }) => {}
        other => panic!("expected a missing route, got {other:?}"),
    }
}

#[tokio::test]
async fn experiments_runs_and_artifacts() {
    let Some(c) = client() else { return };
    let name = unique("exp");
    let b: types::CreateExperimentBody = body(json!({"name": name}));
    let created = c
        .call(|api| {
            let b = b.clone();
            async move { api.create_experiment(&b).await }
        })
        .await
        .unwrap();
    let exp_id = created.experiment_id.unwrap();
    let by_id = c
        .call(|api| {
            let id = exp_id.clone();
            async move { api.get_experiment(&id).await }
        })
        .await
        .unwrap();
    assert_eq!(
        by_id.experiment.unwrap().name.as_deref(),
        Some(name.as_str())
    );
    let by_name = c
        .call(|api| {
            let n = name.clone();
            async move { api.get_experiment_by_name(&n).await }
        })
        .await
        .unwrap();
    assert_eq!(
        by_name.experiment.unwrap().experiment_id.as_deref(),
        Some(exp_id.as_str())
    );
    // duplicate name → RESOURCE_ALREADY_EXISTS
    let err = c
        .call(|api| {
            let b = b.clone();
            async move { api.create_experiment(&b).await }
        })
        .await
        .unwrap_err();
    assert_eq!(err.error_code(), Some("RESOURCE_ALREADY_EXISTS"), "{err}");

    let b: types::CreateRunBody =
        body(json!({"experiment_id": exp_id, "run_name": "r1", "start_time": 1795340000000_i64}));
    let run = c
        .call(|api| {
            let b = b.clone();
            async move { api.create_run(&b).await }
        })
        .await
        .unwrap()
        .run
        .unwrap();
    let run_id = run.info.unwrap().run_id.unwrap();
    let batch: types::LogBatchBody = body(json!({"run_id": run_id,
        "metrics": [{"key": "accuracy", "value": 0.9666666, "timestamp": 1795340000001_i64, "step": 0}, {"key": "nanm", "value": "NaN", "timestamp": 1795340000001_i64}],
        "params": [{"key": "max_iter", "value": "200"}], "tags": [{"key": "mlflow.source.name", "value": "train.py"}]}));
    c.call(|api| {
        let b = batch.clone();
        async move { api.log_batch(&b).await }
    })
    .await
    .unwrap();
    let inputs: types::LogInputsBody = body(
        json!({"run_id": run_id, "datasets": [{"tags": [{"key": "mlflow.data.context", "value": "training"}],
        "dataset": {"name": "iris", "digest": "5d9c1a7e", "source_type": "http", "source": "{\"url\": \"https://x\"}", "schema": "{\"mlflow_colspec\": []}"}}]}),
    );
    c.call(|api| {
        let b = inputs.clone();
        async move { api.log_inputs(&b).await }
    })
    .await
    .unwrap();
    let tag: types::SetRunTagBody =
        body(json!({"run_id": run_id, "key": "ario.tmp", "value": "1"}));
    c.call(|api| {
        let b = tag.clone();
        async move { api.set_run_tag(&b).await }
    })
    .await
    .unwrap();
    let del: types::DeleteRunTagBody = body(json!({"run_id": run_id, "key": "ario.tmp"}));
    c.call(|api| {
        let b = del.clone();
        async move { api.delete_run_tag(&b).await }
    })
    .await
    .unwrap();
    let model_json = json!({"run_id": run_id, "artifact_path": "model", "utc_time_created": "2026-11-22 10:00:00.000000", "flavors": {}}).to_string();
    let lm: types::LogModelBody = body(json!({"run_id": run_id, "model_json": model_json}));
    c.call(|api| {
        let b = lm.clone();
        async move { api.log_model(&b).await }
    })
    .await
    .unwrap();
    let upd: types::UpdateRunBody =
        body(json!({"run_id": run_id, "status": "FINISHED", "end_time": 1795340001000_i64}));
    let info = c
        .call(|api| {
            let b = upd.clone();
            async move { api.update_run(&b).await }
        })
        .await
        .unwrap();
    assert_eq!(info.run_info.unwrap().status.as_deref(), Some("FINISHED"));

    let got = c
        .call(|api| {
            let id = run_id.clone();
            async move { api.get_run(&id).await }
        })
        .await
        .unwrap()
        .run
        .unwrap();
    let data = got.data.unwrap();
    assert_eq!(data.params[0].value, "200");
    assert!(data
        .tags
        .iter()
        .any(|t| t.key == "mlflow.log-model.history"));
    assert!(!data.tags.iter().any(|t| t.key == "ario.tmp"));
    let nan = data.metrics.iter().find(|m| m.key == "nanm").unwrap();
    assert!(matches!(nan.value, types::MetricValue::String(ref s) if s == "NaN"));
    let ds = &got.inputs.unwrap().dataset_inputs[0];
    assert_eq!(
        ds.dataset.as_ref().unwrap().digest.as_deref(),
        Some("5d9c1a7e")
    );

    let search: types::SearchRunsBody = body(
        json!({"experiment_ids": [exp_id], "filter": "params.max_iter = '200'", "max_results": 5}),
    );
    let found = c
        .call(|api| {
            let b = search.clone();
            async move { api.search_runs(&b).await }
        })
        .await
        .unwrap();
    assert_eq!(found.runs.len(), 1);

    // artifacts through the generated routes
    let root = got.info.unwrap().artifact_uri.unwrap();
    let rel = root.strip_prefix("mlflow-artifacts:/").unwrap().to_owned();
    let path = format!("{rel}/ario/payload.json");
    c.call(|api| {
        let p = path.clone();
        async move { api.upload_artifact(&p, b"{}".to_vec()).await }
    })
    .await
    .unwrap();
    let listed = c
        .call(|api| {
            let p = format!("{rel}/ario");
            async move { api.list_proxied_artifacts(Some(&p)).await }
        })
        .await
        .unwrap();
    assert_eq!(listed.files[0].path, "payload.json");
    let downloaded = c
        .call(|api| {
            let p = path.clone();
            async move { api.download_artifact(&p).await }
        })
        .await
        .unwrap();
    let chunks: Vec<_> = futures_util::TryStreamExt::try_collect(downloaded.into_inner())
        .await
        .unwrap();
    assert_eq!(chunks.concat(), b"{}");
    let run_listed = c
        .call(|api| {
            let id = run_id.clone();
            async move { api.list_run_artifacts(None, Some("ario"), &id).await }
        })
        .await
        .unwrap();
    assert_eq!(run_listed.files[0].path, "ario/payload.json");

    // error paths
    let err = c
        .call(|api| async move { api.get_run("00000000000000000000000000000000").await })
        .await
        .unwrap_err();
    assert_eq!(err.error_code(), Some("RESOURCE_DOES_NOT_EXIST"), "{err}");
    assert!(err.is_not_found());
    let bad: types::SetRunTagBody = body(json!({"run_id": run_id, "key": "", "value": "x"}));
    let err = c
        .call(|api| {
            let b = bad.clone();
            async move { api.set_run_tag(&b).await }
        })
        .await
        .unwrap_err();
    assert_eq!(err.error_code(), Some("INVALID_PARAMETER_VALUE"), "{err}");
}

#[tokio::test]
async fn registry_logged_models_traces_and_webhooks() {
    let Some(c) = client() else { return };
    let exp: types::CreateExperimentBody = body(json!({"name": unique("reg")}));
    let exp_id = c
        .call(|api| {
            let b = exp.clone();
            async move { api.create_experiment(&b).await }
        })
        .await
        .unwrap()
        .experiment_id
        .unwrap();
    let rb: types::CreateRunBody = body(json!({"experiment_id": exp_id}));
    let run_id = c
        .call(|api| {
            let b = rb.clone();
            async move { api.create_run(&b).await }
        })
        .await
        .unwrap()
        .run
        .unwrap()
        .info
        .unwrap()
        .run_id
        .unwrap();

    if two_x() {
        let clm: types::CreateLoggedModelBody =
            body(json!({"experiment_id": exp_id, "name": "model"}));
        assert_route_missing(
            c.call(|api| {
                let b = clm.clone();
                async move { api.create_logged_model(&b).await }
            })
            .await,
        );
        assert_route_missing(
            c.call(|api| async move { api.get_logged_model("m-0").await })
                .await,
        );
        assert_route_missing(
            c.call(|api| async move { api.get_trace_info_v3("tr-0").await })
                .await,
        );
        assert_route_missing(
            c.call(|api| async move { api.list_webhooks(None, None).await })
                .await,
        );
        registry_part(&c, &exp_id, &run_id).await;
        let ids = vec![exp_id.clone()];
        assert!(c
            .call(|api| {
                let ids = ids.clone();
                async move { api.search_traces_v2(&ids, None, None, None).await }
            })
            .await
            .unwrap()
            .traces
            .is_empty());
        return;
    }
    // logged model (3.x)
    let clm: types::CreateLoggedModelBody =
        body(json!({"experiment_id": exp_id, "name": "model", "source_run_id": run_id}));
    let model = c
        .call(|api| {
            let b = clm.clone();
            async move { api.create_logged_model(&b).await }
        })
        .await
        .unwrap()
        .model
        .unwrap();
    let model_id = model.info.unwrap().model_id.unwrap();
    let fin: types::FinalizeLoggedModelBody =
        body(json!({"model_id": model_id, "status": "LOGGED_MODEL_READY"}));
    let done = c
        .call(|api| {
            let (b, id) = (fin.clone(), model_id.clone());
            async move { api.finalize_logged_model(&id, &b).await }
        })
        .await
        .unwrap();
    assert_eq!(
        done.model.unwrap().info.unwrap().status.as_deref(),
        Some("LOGGED_MODEL_READY")
    );
    let got = c
        .call(|api| {
            let id = model_id.clone();
            async move { api.get_logged_model(&id).await }
        })
        .await
        .unwrap();
    assert_eq!(
        got.model.unwrap().info.unwrap().source_run_id.as_deref(),
        Some(run_id.as_str())
    );
    let slm: types::SearchLoggedModelsBody =
        body(json!({"experiment_ids": [exp_id], "filter": format!("source_run_id = '{run_id}'")}));
    assert_eq!(
        c.call(|api| {
            let b = slm.clone();
            async move { api.search_logged_models(&b).await }
        })
        .await
        .unwrap()
        .models
        .len(),
        1
    );
    let outs: types::LogOutputsBody =
        body(json!({"run_id": run_id, "models": [{"model_id": model_id, "step": 0}]}));
    c.call(|api| {
        let b = outs.clone();
        async move { api.log_outputs(&b).await }
    })
    .await
    .unwrap();
    registry_part(&c, &exp_id, &run_id).await;
    traces_and_webhooks(&c, &exp_id).await;
}

async fn registry_part(c: &MlflowClient, _exp_id: &str, run_id: &str) {
    let run_id = run_id.to_owned();

    // registered model and versions
    let name = unique("model");
    let crm: types::CreateRegisteredModelBody = body(json!({"name": name}));
    c.call(|api| {
        let b = crm.clone();
        async move { api.create_registered_model(&b).await }
    })
    .await
    .unwrap();
    let cmv: types::CreateModelVersionBody =
        body(json!({"name": name, "source": format!("runs:/{run_id}/model"), "run_id": run_id}));
    let mv = c
        .call(|api| {
            let b = cmv.clone();
            async move { api.create_model_version(&b).await }
        })
        .await
        .unwrap()
        .model_version
        .unwrap();
    let version = mv.version.unwrap();
    assert_eq!(version, "1");
    for (k, v) in [("ario.registration_tx", "TX")] {
        let t: types::SetModelVersionTagBody =
            body(json!({"name": name, "version": version, "key": k, "value": v}));
        c.call(|api| {
            let b = t.clone();
            async move { api.set_model_version_tag(&b).await }
        })
        .await
        .unwrap();
    }
    let rmt: types::SetRegisteredModelTagBody =
        body(json!({"name": name, "key": "ario.last_training_hash", "value": "ab"}));
    c.call(|api| {
        let b = rmt.clone();
        async move { api.set_registered_model_tag(&b).await }
    })
    .await
    .unwrap();
    let alias: types::SetRegisteredModelAliasBody =
        body(json!({"name": name, "alias": "champion", "version": version}));
    c.call(|api| {
        let b = alias.clone();
        async move { api.set_registered_model_alias(&b).await }
    })
    .await
    .unwrap();
    let by_alias = c
        .call(|api| {
            let n = name.clone();
            async move { api.get_model_version_by_alias("champion", &n).await }
        })
        .await
        .unwrap();
    assert_eq!(
        by_alias.model_version.unwrap().tags[0].key,
        "ario.registration_tx"
    );
    let ts: types::TransitionModelVersionStageBody =
        body(json!({"name": name, "version": version, "stage": "Production"}));
    let moved = c
        .call(|api| {
            let b = ts.clone();
            async move { api.transition_model_version_stage(&b).await }
        })
        .await
        .unwrap();
    assert_eq!(
        moved.model_version.unwrap().current_stage.as_deref(),
        Some("Production")
    );
    let latest: types::GetLatestVersionsBody =
        body(json!({"name": name, "stages": ["Production"]}));
    assert_eq!(
        c.call(|api| {
            let b = latest.clone();
            async move { api.get_latest_versions(&b).await }
        })
        .await
        .unwrap()
        .model_versions
        .len(),
        1
    );
    let got = c
        .call(|api| {
            let (n, v) = (name.clone(), version.clone());
            async move { api.get_model_version(&n, &v).await }
        })
        .await
        .unwrap();
    assert_eq!(
        got.model_version.unwrap().aliases,
        vec!["champion".to_owned()]
    );
    let uri = c
        .call(|api| {
            let (n, v) = (name.clone(), version.clone());
            async move { api.get_model_version_download_uri(&n, &v).await }
        })
        .await
        .unwrap();
    assert!(uri.artifact_uri.is_some());
    let filter = format!("run_id='{run_id}'");
    assert_eq!(
        c.call(|api| {
            let f = filter.clone();
            async move { api.search_model_versions(Some(&f), None, None).await }
        })
        .await
        .unwrap()
        .model_versions
        .len(),
        1
    );
    let rm = c
        .call(|api| {
            let n = name.clone();
            async move { api.get_registered_model(&n).await }
        })
        .await
        .unwrap()
        .registered_model
        .unwrap();
    assert_eq!(rm.aliases[0].alias.as_deref(), Some("champion"));
    let f = format!("name='{name}'");
    assert_eq!(
        c.call(|api| {
            let f = f.clone();
            async move { api.search_registered_models(Some(&f), None, None).await }
        })
        .await
        .unwrap()
        .registered_models
        .len(),
        1
    );
    let dmt: types::DeleteModelVersionTagBody =
        body(json!({"name": name, "version": version, "key": "ario.registration_tx"}));
    c.call(|api| {
        let b = dmt.clone();
        async move { api.delete_model_version_tag(&b).await }
    })
    .await
    .unwrap();
    let drt: types::DeleteRegisteredModelTagBody =
        body(json!({"name": name, "key": "ario.last_training_hash"}));
    c.call(|api| {
        let b = drt.clone();
        async move { api.delete_registered_model_tag(&b).await }
    })
    .await
    .unwrap();
    let da: types::DeleteRegisteredModelAliasBody =
        body(json!({"name": name, "alias": "champion"}));
    c.call(|api| {
        let b = da.clone();
        async move { api.delete_registered_model_alias(&b).await }
    })
    .await
    .unwrap();
    // unknown alias is INVALID_PARAMETER_VALUE (400), a missing version RESOURCE_DOES_NOT_EXIST
    let err = c
        .call(|api| {
            let n = name.clone();
            async move { api.get_model_version_by_alias("champion", &n).await }
        })
        .await
        .unwrap_err();
    assert_eq!(err.error_code(), Some("INVALID_PARAMETER_VALUE"), "{err}");
    let err = c
        .call(|api| {
            let n = name.clone();
            async move { api.get_model_version(&n, "99").await }
        })
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
}

async fn traces_and_webhooks(c: &MlflowClient, exp_id: &str) {
    let exp_id = exp_id.to_owned();

    // traces: searches deserialize; a missing trace is a typed error
    let st: types::SearchTracesV3Body = body(
        json!({"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}}], "max_results": 5}),
    );
    assert!(c
        .call(|api| {
            let b = st.clone();
            async move { api.search_traces_v3(&b).await }
        })
        .await
        .unwrap()
        .traces
        .is_empty());
    let ids = vec![exp_id.clone()];
    assert!(c
        .call(|api| {
            let ids = ids.clone();
            async move { api.search_traces_v2(&ids, None, None, None).await }
        })
        .await
        .unwrap()
        .traces
        .is_empty());
    let err = c
        .call(|api| async move {
            api.get_trace_info_v3("tr-00000000000000000000000000000000")
                .await
        })
        .await
        .unwrap_err();
    assert!(err.is_not_found(), "{err}");
    let err = c
        .call(|api| async move {
            api.get_trace_info_v2("tr-00000000000000000000000000000000")
                .await
        })
        .await
        .unwrap_err();
    assert!(matches!(err, MlflowError::Api { .. }), "{err}");
    let stt: types::SetTraceTagBody = body(json!({"key": "ario.x", "value": "1"}));
    assert!(c
        .call(|api| {
            let b = stt.clone();
            async move {
                api.set_trace_tag("tr-00000000000000000000000000000000", &b)
                    .await
            }
        })
        .await
        .is_err());
    let dtt: types::DeleteTraceTagBody = body(json!({"key": "ario.x"}));
    assert!(c
        .call(|api| {
            let b = dtt.clone();
            async move {
                api.delete_trace_tag("tr-00000000000000000000000000000000", &b)
                    .await
            }
        })
        .await
        .is_err());

    // webhooks (3.x): create, list, test against a closed port, delete
    let closed = ario_test_support::closed_addr();
    let cw: types::CreateWebhookBody = body(
        json!({"name": unique("hook"), "url": format!("https://{closed}/hook"),
        "events": [{"entity": "MODEL_VERSION", "action": "CREATED"}]}),
    );
    let hook = c
        .call(|api| {
            let b = cw.clone();
            async move { api.create_webhook(&b).await }
        })
        .await
        .unwrap()
        .webhook
        .unwrap();
    let id = hook.webhook_id.unwrap();
    assert!(c
        .call(|api| async move { api.list_webhooks(None, None).await })
        .await
        .unwrap()
        .webhooks
        .iter()
        .any(|w| w.webhook_id.as_deref() == Some(id.as_str())));
    let tw: types::TestWebhookBody = body(json!({}));
    let result = c
        .call(|api| {
            let (b, id) = (tw.clone(), id.clone());
            async move { api.test_webhook(&id, &b).await }
        })
        .await
        .unwrap()
        .result
        .unwrap();
    assert_eq!(result.success, Some(false), "nothing listens there");
    c.call(|api| {
        let id = id.clone();
        async move { api.delete_webhook(&id).await }
    })
    .await
    .unwrap();
}

#[tokio::test]
async fn a_real_trace_through_every_trace_endpoint() {
    let Some(server) = ario_test_support::mlflow() else {
        return;
    };
    let c = client().unwrap();
    let t = server.python("log_trace.py", &[]).unwrap();
    let trace_id = t["trace_id"].as_str().unwrap().to_owned();
    let exp_id = t["experiment_id"].as_str().unwrap().to_owned();
    let set: types::SetTraceTagBody = body(json!({"key": "ario.payload_hash", "value": "ab"}));
    c.call(|api| {
        let (b, id) = (set.clone(), trace_id.clone());
        async move { api.set_trace_tag(&id, &b).await }
    })
    .await
    .unwrap();
    let v2 = c
        .call(|api| {
            let id = trace_id.clone();
            async move { api.get_trace_info_v2(&id).await }
        })
        .await
        .unwrap();
    let tags = v2.trace_info.unwrap().tags;
    assert!(
        tags.iter()
            .any(|t| t.key == "ario.payload_hash" && t.value == "ab"),
        "{tags:?}"
    );
    if !two_x() {
        let v3 = c
            .call(|api| {
                let id = trace_id.clone();
                async move { api.get_trace_info_v3(&id).await }
            })
            .await
            .unwrap();
        let info = v3.trace.unwrap().trace_info.unwrap();
        assert_eq!(
            info.tags.get("ario.payload_hash").map(String::as_str),
            Some("ab")
        );
        let st: types::SearchTracesV3Body = body(
            json!({"locations": [{"type": "MLFLOW_EXPERIMENT", "mlflow_experiment": {"experiment_id": exp_id}}],
            "filter": "tags.`ario.payload_hash` = 'ab'"}),
        );
        assert_eq!(
            c.call(|api| {
                let b = st.clone();
                async move { api.search_traces_v3(&b).await }
            })
            .await
            .unwrap()
            .traces
            .len(),
            1
        );
    }
    let ids = vec![exp_id.clone()];
    let found = c
        .call(|api| {
            let ids = ids.clone();
            async move { api.search_traces_v2(&ids, None, None, None).await }
        })
        .await
        .unwrap();
    assert!(
        found
            .traces
            .iter()
            .any(|t| t.request_id.as_deref() == Some(trace_id.as_str())),
        "{:?}",
        found.traces
    );
    let del: types::DeleteTraceTagBody = body(json!({"key": "ario.payload_hash"}));
    c.call(|api| {
        let (b, id) = (del.clone(), trace_id.clone());
        async move { api.delete_trace_tag(&id, &b).await }
    })
    .await
    .unwrap();
    let v2 = c
        .call(|api| {
            let id = trace_id.clone();
            async move { api.get_trace_info_v2(&id).await }
        })
        .await
        .unwrap();
    assert!(!v2
        .trace_info
        .unwrap()
        .tags
        .iter()
        .any(|t| t.key == "ario.payload_hash"));
}
