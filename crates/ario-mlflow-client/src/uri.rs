//! Model URIs in both MLflow eras: `runs:/`, `models:/<name>/<version>`,
//! `models:/<name>@<alias>`, `models:/<name>/<stage>` (and `latest`), and
//! `models:/<model_id>` (a 3.x LoggedModel).

use std::fmt;

/// A parsed model URI.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ModelUri {
    /// `runs:/<run_id>[/<path>]`.
    Run {
        /// The run.
        run_id: String,
        /// Artifact path inside the run (`None`: the run root).
        path: Option<String>,
    },
    /// `models:/<name>/<digits>[/<sub>]`.
    Version {
        /// Registered model.
        name: String,
        /// Version number (a string, as MLflow sends it).
        version: String,
        /// Sub-path below the model root.
        sub_path: Option<String>,
    },
    /// `models:/<name>@<alias>[/<sub>]`.
    Alias {
        /// Registered model.
        name: String,
        /// Alias.
        alias: String,
        /// Sub-path below the model root.
        sub_path: Option<String>,
    },
    /// `models:/<name>/<stage>` (also `latest`, any case).
    Stage {
        /// Registered model.
        name: String,
        /// `Production`, `Staging`, `latest`…
        stage: String,
        /// Sub-path below the model root.
        sub_path: Option<String>,
    },
    /// `models:/<model_id>`: a 3.x LoggedModel.
    LoggedModel {
        /// The LoggedModel id (`m-…`).
        model_id: String,
    },
}

/// Why a string is not a model URI.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a model URI ({why}): {uri:?}")]
pub struct UriError {
    /// The input.
    pub uri: String,
    /// What is wrong.
    pub why: &'static str,
}

fn opt(s: &str) -> Option<String> {
    let s = s.trim_matches('/');
    (!s.is_empty()).then(|| s.to_owned())
}

impl ModelUri {
    /// Parses `runs:/…` and `models:/…` URIs.
    pub fn parse(uri: &str) -> Result<Self, UriError> {
        let err = |why| UriError {
            uri: uri.to_owned(),
            why,
        };
        if let Some(rest) = uri.strip_prefix("runs:/") {
            let rest = rest.trim_start_matches('/');
            let (run, path) = rest.split_once('/').unwrap_or((rest, ""));
            if run.is_empty() {
                return Err(err("runs:/ needs a run id"));
            }
            return Ok(ModelUri::Run {
                run_id: run.to_owned(),
                path: opt(path),
            });
        }
        let rest = uri
            .strip_prefix("models:/")
            .ok_or_else(|| err("scheme must be runs:/ or models:/"))?;
        let rest = rest.trim_start_matches('/');
        let (head, tail) = rest.split_once('/').unwrap_or((rest, ""));
        if head.is_empty() {
            return Err(err("models:/ needs a name or model id"));
        }
        if let Some((name, alias)) = head.rsplit_once('@') {
            if name.is_empty() || alias.is_empty() {
                return Err(err("empty name or alias"));
            }
            return Ok(ModelUri::Alias {
                name: name.to_owned(),
                alias: alias.to_owned(),
                sub_path: opt(tail),
            });
        }
        if tail.is_empty() {
            return Ok(ModelUri::LoggedModel {
                model_id: head.to_owned(),
            });
        }
        let (second, sub) = tail.split_once('/').unwrap_or((tail, ""));
        if second.bytes().all(|b| b.is_ascii_digit()) {
            Ok(ModelUri::Version {
                name: head.to_owned(),
                version: second.to_owned(),
                sub_path: opt(sub),
            })
        } else {
            Ok(ModelUri::Stage {
                name: head.to_owned(),
                stage: second.to_owned(),
                sub_path: opt(sub),
            })
        }
    }
}

impl fmt::Display for ModelUri {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sub = |s: &Option<String>| s.as_ref().map(|s| format!("/{s}")).unwrap_or_default();
        match self {
            ModelUri::Run { run_id, path } => write!(f, "runs:/{run_id}{}", sub(path)),
            ModelUri::Version {
                name,
                version,
                sub_path,
            } => write!(f, "models:/{name}/{version}{}", sub(sub_path)),
            ModelUri::Alias {
                name,
                alias,
                sub_path,
            } => write!(f, "models:/{name}@{alias}{}", sub(sub_path)),
            ModelUri::Stage {
                name,
                stage,
                sub_path,
            } => write!(f, "models:/{name}/{stage}{}", sub(sub_path)),
            ModelUri::LoggedModel { model_id } => write!(f, "models:/{model_id}"),
        }
    }
}

/// The plugin's `parse_runs_uri`: `(run_id, path)` of a `runs:/` source, else `(None, None)`.
pub fn parse_runs_uri(source: &str) -> (Option<String>, Option<String>) {
    match ModelUri::parse(source) {
        Ok(ModelUri::Run { run_id, path }) => (Some(run_id), path),
        _ => (None, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form() {
        let cases: &[(&str, ModelUri)] = &[
            (
                "runs:/abc/model",
                ModelUri::Run {
                    run_id: "abc".into(),
                    path: Some("model".into()),
                },
            ),
            (
                "runs://abc/nested/path",
                ModelUri::Run {
                    run_id: "abc".into(),
                    path: Some("nested/path".into()),
                },
            ),
            (
                "runs:/abc",
                ModelUri::Run {
                    run_id: "abc".into(),
                    path: None,
                },
            ),
            (
                "models:/iris/3",
                ModelUri::Version {
                    name: "iris".into(),
                    version: "3".into(),
                    sub_path: None,
                },
            ),
            (
                "models:/iris/3/MLmodel",
                ModelUri::Version {
                    name: "iris".into(),
                    version: "3".into(),
                    sub_path: Some("MLmodel".into()),
                },
            ),
            (
                "models:/iris@champion",
                ModelUri::Alias {
                    name: "iris".into(),
                    alias: "champion".into(),
                    sub_path: None,
                },
            ),
            (
                "models:/a@b@champion",
                ModelUri::Alias {
                    name: "a@b".into(),
                    alias: "champion".into(),
                    sub_path: None,
                },
            ),
            (
                "models:/iris/Production",
                ModelUri::Stage {
                    name: "iris".into(),
                    stage: "Production".into(),
                    sub_path: None,
                },
            ),
            (
                "models:/iris/latest",
                ModelUri::Stage {
                    name: "iris".into(),
                    stage: "latest".into(),
                    sub_path: None,
                },
            ),
            (
                "models:/m-a55338bcc66b478a808bfba0e85f403b",
                ModelUri::LoggedModel {
                    model_id: "m-a55338bcc66b478a808bfba0e85f403b".into(),
                },
            ),
        ];
        for (text, want) in cases {
            assert_eq!(&ModelUri::parse(text).unwrap(), want, "{text}");
        }
        assert_eq!(
            ModelUri::parse("models:/iris/3").unwrap().to_string(),
            "models:/iris/3"
        );
        for bad in [
            "",
            "s3://x",
            "runs:/",
            "models:/",
            "models:/@x",
            "models:/x@",
        ] {
            assert!(ModelUri::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            parse_runs_uri("runs:/train-abc/sklearn-model"),
            (Some("train-abc".into()), Some("sklearn-model".into()))
        );
        assert_eq!(parse_runs_uri("models:/m-1"), (None, None));
    }
}
