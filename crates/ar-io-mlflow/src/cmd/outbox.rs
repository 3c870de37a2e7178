//! `retry` and `status`: the outbox of signed envelopes.

use ario_provenance::outbox::{OutboxItem, OutboxState};

use super::common::{anchorer, block_on};
use crate::output::{print_json, Format};

/// `status`
#[derive(Debug, clap::Args)]
pub(crate) struct StatusArgs {
    /// Also list anchored items.
    #[arg(long)]
    all: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// `retry`
#[derive(Debug, clap::Args)]
pub(crate) struct RetryArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

fn line(i: &OutboxItem) -> String {
    format!(
        "  {:<9} {:<18} {}  attempts {}{}{}\n",
        i.state.as_str(),
        i.event_type,
        i.event_id,
        i.attempts,
        i.tx_id
            .as_ref()
            .map(|t| format!("  tx {t}"))
            .unwrap_or_default(),
        i.last_error
            .as_ref()
            .map(|e| format!("  last error: {e}"))
            .unwrap_or_default()
    )
}

pub(crate) fn status(a: &StatusArgs) -> anyhow::Result<u8> {
    let prov = anchorer()?;
    let states: &[OutboxState] = if a.all {
        &[]
    } else {
        &[
            OutboxState::Pending,
            OutboxState::Uploaded,
            OutboxState::Failed,
        ]
    };
    let items = prov.outbox().list(states)?;
    if a.format == Format::Json {
        print_json(&items)?;
    } else {
        println!(
            "Outbox {} — {} item(s){}",
            prov.outbox().path().display(),
            items.len(),
            if a.all { "" } else { " pending or failed" }
        );
        for i in &items {
            print!("{}", line(i));
        }
    }
    Ok(0)
}

pub(crate) fn retry(a: &RetryArgs) -> anyhow::Result<u8> {
    block_on(async {
        let prov = anchorer()?;
        let items = prov.retry().await?;
        let left = items
            .iter()
            .filter(|i| i.state != OutboxState::Anchored)
            .count();
        if a.format == Format::Json {
            print_json(&items)?;
        } else {
            println!(
                "Retried {} item(s): {} anchored, {} still pending or failed",
                items.len(),
                items.len() - left,
                left
            );
            for i in &items {
                print!("{}", line(i));
            }
        }
        // A refusal no retry can change fails; anything still pending is undetermined.
        Ok(if items.iter().any(|i| i.state == OutboxState::Failed) {
            crate::exit::FAILED
        } else if left > 0 {
            crate::exit::UNDETERMINED
        } else {
            crate::exit::OK
        })
    })
}
