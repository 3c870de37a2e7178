//! Renders a page with headless Chromium (Debian's `chromium` package) to a
//! PNG and measures it, so a test can check that a report actually draws.

use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::env::{skip, SkipKind};

/// What a screenshot shows, measured.
#[derive(Debug, Clone)]
pub struct Shot {
    /// The PNG.
    pub path: PathBuf,
    /// Its width in pixels.
    pub width: u32,
    /// Its height in pixels.
    pub height: u32,
    /// Distinct colours seen (capped at 10 000).
    pub colours: usize,
    /// Share of pixels that are not the page background (the most common colour).
    pub drawn: f64,
}

/// How long one screenshot may take before the browser is ended.
const DEADLINE: Duration = Duration::from_secs(120);

fn binary() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("ARIO_CHROMIUM").filter(|v| !v.is_empty()) {
        return Some(PathBuf::from(p));
    }
    [
        "/usr/bin/chromium",
        "/usr/bin/chromium-browser",
        "/usr/bin/google-chrome",
    ]
    .iter()
    .map(PathBuf::from)
    .find(|p| p.is_file())
}

/// Screenshots `html` at `width`×`height` into `png`. `None` (after a
/// recorded skip) when no Chromium is installed.
pub fn screenshot(
    html: &Path,
    png: &Path,
    width: u32,
    height: u32,
) -> Option<Result<Shot, String>> {
    let Some(chromium) = binary() else {
        skip(
            SkipKind::Peer,
            "Chromium is not installed (apt-get install chromium, or set ARIO_CHROMIUM)",
        );
        return None;
    };
    Some(run(&chromium, html, png, width, height))
}

fn run(chromium: &Path, html: &Path, png: &Path, width: u32, height: u32) -> Result<Shot, String> {
    static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let profile = std::env::temp_dir().join(format!("ario-chromium-{}-{n}", std::process::id()));
    let html = html
        .canonicalize()
        .map_err(|e| format!("{}: {e}", html.display()))?;
    let _ = std::fs::remove_file(png);
    let log = profile.with_extension("log");
    let log_file = std::fs::File::create(&log).map_err(|e| format!("{}: {e}", log.display()))?;
    let err_file = log_file.try_clone().map_err(|e| e.to_string())?;
    let mut child = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--hide-scrollbars",
            "--no-first-run",
            "--force-device-scale-factor=1",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", html.display()))
        .stdin(Stdio::null())
        .stdout(log_file)
        .stderr(err_file)
        // Its own group, so a hung browser and its helpers can be ended
        // together without reaching this process's group.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("running {}: {e}", chromium.display()))?;
    let deadline = Instant::now() + DEADLINE;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(100)),
            Err(e) => {
                let _ = child.kill();
                return Err(format!("waiting for chromium: {e}"));
            }
            Ok(None) => {
                let _ = Command::new("kill")
                    .args(["-KILL", "--", &format!("-{}", child.id())])
                    .output();
                let _ = child.wait();
                break None;
            }
        }
    };
    let _ = std::fs::remove_dir_all(&profile);
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    let _ = std::fs::remove_file(&log);
    let Some(status) = status else {
        return Err(format!(
            "chromium did not finish in {} s:\n{output}",
            DEADLINE.as_secs()
        ));
    };
    if !png.is_file() {
        return Err(format!(
            "chromium wrote no screenshot ({status}):\n{output}"
        ));
    }
    measure(png)
}

/// Decodes a PNG and measures it.
pub fn measure(png: &Path) -> Result<Shot, String> {
    let file = std::fs::File::open(png).map_err(|e| e.to_string())?;
    let mut decoder = png::Decoder::new(std::io::BufReader::new(file));
    decoder.set_transformations(png::Transformations::EXPAND | png::Transformations::STRIP_16);
    let mut reader = decoder.read_info().map_err(|e| e.to_string())?;
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).map_err(|e| e.to_string())?;
    let channels = info.color_type.samples();
    let mut counts: std::collections::HashMap<[u8; 3], usize> = std::collections::HashMap::new();
    for px in buf[..info.buffer_size()].chunks_exact(channels) {
        let rgb = match channels {
            1 | 2 => [px[0], px[0], px[0]],
            _ => [px[0], px[1], px[2]],
        };
        if counts.len() < 10_000 || counts.contains_key(&rgb) {
            *counts.entry(rgb).or_default() += 1;
        }
    }
    let total = (info.width as usize) * (info.height as usize);
    let background = counts.values().copied().max().unwrap_or(0);
    Ok(Shot {
        path: png.to_owned(),
        width: info.width,
        height: info.height,
        colours: counts.len(),
        drawn: if total == 0 {
            0.0
        } else {
            1.0 - background as f64 / total as f64
        },
    })
}
