//! The lineage graph of the HTML audit: one inline SVG (no scripts, no
//! external assets), dataset → run → version → promotions and alias moves →
//! decisions, each node coloured by its verdict, transactions linked.

use std::fmt::Write as _;

use crate::audit::{Audit, AuditStage};
use crate::event::EventKind;

/// How a node is coloured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Verified.
    Verified,
    /// A check failed.
    Failed,
    /// Anchored, but not everything could be checked.
    Undetermined,
    /// Not anchored.
    NotAnchored,
}

impl Verdict {
    fn of(s: &AuditStage) -> Verdict {
        match (s.anchored, s.ok) {
            (false, _) => Verdict::NotAnchored,
            (true, Some(true)) => Verdict::Verified,
            (true, Some(false)) => Verdict::Failed,
            (true, None) => Verdict::Undetermined,
        }
    }

    /// The worse of two.
    fn worst(self, other: Verdict) -> Verdict {
        let rank = |v: Verdict| match v {
            Verdict::Verified => 0,
            Verdict::NotAnchored => 1,
            Verdict::Undetermined => 2,
            Verdict::Failed => 3,
        };
        if rank(other) > rank(self) {
            other
        } else {
            self
        }
    }

    /// The word shown in the node.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Verified => "verified",
            Verdict::Failed => "FAILED",
            Verdict::Undetermined => "undetermined",
            Verdict::NotAnchored => "not anchored",
        }
    }

    /// Fill and stroke colours (the report's palette).
    fn colours(self) -> (&'static str, &'static str) {
        match self {
            Verdict::Verified => ("#d8f3e0", "#11632c"),
            Verdict::Failed => ("#fbdada", "#8a1414"),
            Verdict::Undetermined => ("#fdf0cc", "#7a5600"),
            Verdict::NotAnchored => ("#e6e8ec", "#4a5160"),
        }
    }
}

/// One box of the graph.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// The stage, e.g. `registration`.
    pub title: String,
    /// What it is, e.g. `None → Production`.
    pub detail: String,
    /// Its transaction, when anchored (and only one).
    pub tx_id: Option<String>,
    /// Its colour.
    pub verdict: Verdict,
}

fn rank(kind: EventKind) -> u8 {
    match kind {
        EventKind::Dataset => 0,
        EventKind::Training => 1,
        EventKind::Registration => 2,
        EventKind::StageTransition | EventKind::AliasSet => 3,
        EventKind::Prediction | EventKind::DecisionCheckpoint => 4,
        EventKind::KeyRetired => 5,
    }
}

/// The nodes of an audit, in lineage order; decisions and decision batches
/// are folded into one node each.
pub fn nodes(audit: &Audit) -> Vec<Node> {
    let mut stages: Vec<&AuditStage> = audit.stages.iter().collect();
    stages.sort_by_key(|s| rank(s.stage));
    let mut out: Vec<Node> = Vec::new();
    for kind in [EventKind::Prediction, EventKind::DecisionCheckpoint] {
        let group: Vec<&&AuditStage> = stages.iter().filter(|s| s.stage == kind).collect();
        let Some(first) = group.first() else { continue };
        let verdict = group
            .iter()
            .fold(Verdict::of(first), |v, s| v.worst(Verdict::of(s)));
        let verified = group.iter().filter(|s| s.ok == Some(true)).count();
        out.push(Node {
            title: format!("{}s", first.stage.stage_name()),
            detail: format!("{verified} of {} verified", group.len()),
            tx_id: None,
            verdict,
        });
    }
    let folded = out;
    let mut nodes: Vec<Node> = stages
        .iter()
        .filter(|s| {
            !matches!(
                s.stage,
                EventKind::Prediction | EventKind::DecisionCheckpoint
            )
        })
        .map(|s| Node {
            title: s.stage.stage_name().to_owned(),
            detail: s.detail.clone(),
            tx_id: s.tx_id.clone(),
            verdict: Verdict::of(s),
        })
        .collect();
    // Decisions come after promotions and alias moves, before rotations.
    let at = nodes
        .iter()
        .position(|n| n.title == EventKind::KeyRetired.stage_name())
        .unwrap_or(nodes.len());
    nodes.splice(at..at, folded);
    nodes
}

fn esc(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        s.to_owned()
    } else {
        s.chars().take(max.saturating_sub(1)).collect::<String>() + "…"
    }
}

const WIDTH: u32 = 720;
const BOX_H: u32 = 64;
const GAP: u32 = 30;
const MARGIN: u32 = 16;

/// The SVG of `nodes`; `link` gives the URL of a transaction.
pub fn svg(nodes: &[Node], link: &dyn Fn(&str) -> String) -> String {
    let n = u32::try_from(nodes.len()).unwrap_or(u32::MAX).max(1);
    let height = MARGIN * 2 + n * BOX_H + (n - 1) * GAP;
    let mut o = String::new();
    let _ = write!(
        o,
        r##"<svg xmlns="http://www.w3.org/2000/svg" class="lineage" role="img" aria-label="Lineage" width="{WIDTH}" height="{height}" viewBox="0 0 {WIDTH} {height}" font-family="system-ui, sans-serif">"##
    );
    o.push_str(r##"<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="8" markerHeight="8" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#6a7180"/></marker></defs>"##);
    if nodes.is_empty() {
        let _ = write!(
            o,
            r##"<text x="{MARGIN}" y="{}" font-size="14" fill="#4a5160">Nothing anchored yet.</text>"##,
            MARGIN + 24
        );
    }
    let x = MARGIN;
    let w = WIDTH - 2 * MARGIN;
    for (i, node) in nodes.iter().enumerate() {
        let i = u32::try_from(i).unwrap_or(u32::MAX);
        let y = MARGIN + i * (BOX_H + GAP);
        let (fill, stroke) = node.verdict.colours();
        let _ = write!(
            o,
            r##"<g class="node {}"><rect x="{x}" y="{y}" width="{w}" height="{BOX_H}" rx="8" fill="{fill}" stroke="{stroke}" stroke-width="{}"/>"##,
            node.verdict.word().to_lowercase().replace(' ', "-"),
            if node.verdict == Verdict::Failed {
                3
            } else {
                1
            }
        );
        let _ = write!(
            o,
            r##"<text x="{}" y="{}" font-size="15" font-weight="600" fill="{stroke}">{} — {}</text>"##,
            x + 14,
            y + 24,
            esc(&capitalize(&node.title)),
            esc(node.verdict.word())
        );
        let _ = write!(
            o,
            r##"<text x="{}" y="{}" font-size="13" fill="#1d2330">{}</text>"##,
            x + 14,
            y + 46,
            esc(&clip(&node.detail, 60))
        );
        if let Some(tx) = &node.tx_id {
            let _ = write!(
                o,
                r##"<a href="{}"><text x="{}" y="{}" font-size="12" text-anchor="end" font-family="ui-monospace, monospace" fill="#1d4ed8">tx {}</text></a>"##,
                esc(&link(tx)),
                x + w - 14,
                y + 24,
                esc(&clip(tx, 18))
            );
        }
        o.push_str("</g>");
        if i + 1 < n {
            let cx = x + w / 2;
            let _ = write!(
                o,
                r##"<line x1="{cx}" y1="{}" x2="{cx}" y2="{}" stroke="#6a7180" stroke-width="2" marker-end="url(#arrow)"/>"##,
                y + BOX_H,
                y + BOX_H + GAP - 4
            );
        }
    }
    o.push_str("</svg>");
    o
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// The lineage SVG of an audit.
pub fn lineage_svg(audit: &Audit, link: &dyn Fn(&str) -> String) -> String {
    svg(&nodes(audit), link)
}

#[cfg(test)]
mod tests;
