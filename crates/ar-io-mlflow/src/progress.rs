//! Progress bars on stderr for long operations — only when stderr is a
//! terminal and the output is not JSON; silent in CI, pipes and scripts.

use std::io::IsTerminal as _;

use ario_provenance::progress::{Reporter, Task};
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

struct Bars(MultiProgress);

struct Bar(ProgressBar);

impl Task for Bar {
    fn advance(&self, n: u64) {
        self.0.inc(n);
    }
    fn finish(&self) {
        self.0.finish_and_clear();
    }
}

impl Reporter for Bars {
    fn begin(&self, what: &str, total: u64) -> Box<dyn Task> {
        let bar = self.0.add(ProgressBar::new(total));
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>24} [{bar:32}] {pos}/{len} ({elapsed})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what.to_owned());
        Box::new(Bar(bar))
    }
}

/// Whether bars may be drawn: stderr is a terminal, and no `--format json`
/// (nor `NO_PROGRESS`) asks for quiet.
pub(crate) fn wanted(stderr_is_terminal: bool, args: &[String]) -> bool {
    let json = args
        .windows(2)
        .any(|w| w[0] == "--format" && w[1] == "json")
        || args.iter().any(|a| a == "--format=json");
    stderr_is_terminal && !json && std::env::var_os("NO_PROGRESS").is_none()
}

/// Installs the bars when [`wanted`].
pub(crate) fn install() {
    let args: Vec<String> = std::env::args().collect();
    if wanted(std::io::stderr().is_terminal(), &args) {
        let bars = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let _ = ario_provenance::progress::set_reporter(Box::new(Bars(bars)));
    }
}

#[cfg(test)]
mod tests {
    use super::wanted;

    fn args(a: &[&str]) -> Vec<String> {
        a.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn bars_only_on_a_terminal_and_never_with_json() {
        assert!(wanted(true, &args(&["ar-io-mlflow", "audit", "m/1"])));
        assert!(!wanted(false, &args(&["ar-io-mlflow", "audit", "m/1"])));
        assert!(!wanted(
            true,
            &args(&["ar-io-mlflow", "audit", "m/1", "--format", "json"])
        ));
        assert!(!wanted(
            true,
            &args(&["ar-io-mlflow", "retry", "--format=json"])
        ));
        assert!(wanted(
            true,
            &args(&["ar-io-mlflow", "audit", "m/1", "--format", "html"])
        ));
    }
}
