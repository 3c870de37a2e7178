//! Registering a webhook receiver with MLflow 3 (create, or bring an
//! existing one of the same name up to date).

use crate::generated::types;
use crate::{MlflowClient, MlflowError};

/// What [`MlflowClient::ensure_webhook`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookSetup {
    /// A new webhook (its id).
    Created(String),
    /// The webhook of that name now has the given URL, events and secret (its id).
    Updated(String),
}

/// The webhook to have in MLflow.
#[derive(Debug, Clone)]
pub struct WebhookSpec<'a> {
    /// Name (the key `ensure_webhook` finds an existing webhook by).
    pub name: &'a str,
    /// Where MLflow delivers (MLflow requires `https` unless told otherwise).
    pub url: &'a str,
    /// `(ENTITY, ACTION)` pairs in MLflow's REST spelling, e.g. `("MODEL_VERSION", "CREATED")`.
    pub events: &'a [(&'a str, &'a str)],
    /// The HMAC secret MLflow signs deliveries with.
    pub secret: &'a str,
}

impl MlflowClient {
    /// Creates the webhook, or updates the one with the same name (URL,
    /// events, secret, and active again).
    pub async fn ensure_webhook(
        &self,
        spec: &WebhookSpec<'_>,
    ) -> Result<WebhookSetup, MlflowError> {
        let events: Vec<types::WebhookEvent> = spec
            .events
            .iter()
            .map(|(entity, action)| types::WebhookEvent {
                entity: (*entity).into(),
                action: (*action).into(),
            })
            .collect();
        let mut token: Option<String> = None;
        loop {
            let page = self
                .call(|api| {
                    let t = token.clone();
                    async move { api.list_webhooks(Some(100), t.as_deref()).await }
                })
                .await?;
            if let Some(id) = page
                .webhooks
                .iter()
                .find(|w| w.name.as_deref() == Some(spec.name))
                .and_then(|w| w.webhook_id.clone())
            {
                let body = types::UpdateWebhookBody {
                    description: None,
                    events: events.clone(),
                    name: None,
                    secret: Some(spec.secret.into()),
                    status: Some("ACTIVE".into()),
                    url: Some(spec.url.into()),
                };
                self.call(|api| {
                    let (b, id) = (body.clone(), id.clone());
                    async move { api.update_webhook(&id, &b).await }
                })
                .await?;
                return Ok(WebhookSetup::Updated(id));
            }
            match page.next_page_token.filter(|t| !t.is_empty()) {
                Some(t) => token = Some(t),
                None => break,
            }
        }
        let body = types::CreateWebhookBody {
            description: Some("ar-io-mlflow serve: anchors registry changes".into()),
            events,
            name: spec.name.into(),
            secret: Some(spec.secret.into()),
            status: Some("ACTIVE".into()),
            url: spec.url.into(),
        };
        let created = self
            .call(|api| {
                let b = body.clone();
                async move { api.create_webhook(&b).await }
            })
            .await?;
        Ok(WebhookSetup::Created(
            created
                .webhook
                .and_then(|w| w.webhook_id)
                .unwrap_or_default(),
        ))
    }
}
