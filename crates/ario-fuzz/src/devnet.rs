//! The devnet's HTTP handlers as a fuzz target: one devnet in this process,
//! each input turned into one raw HTTP/1.1 request on a fresh connection.
//! A handler that panics drops the connection without an answer — that, or
//! a devnet that stops answering `/health`, is a crash.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::sync::OnceLock;
use std::time::Duration;

/// Routes the first input byte picks from (the rest is path tail and body).
const ROUTES: &[(&str, &str)] = &[
    ("POST", "/turbo/tx/solana"),
    ("POST", "/turbo/tx/arweave"),
    ("POST", "/graphql"),
    ("POST", "/verify/api/v1/verify"),
    ("GET", "/raw/"),
    ("GET", "/turbo/tx/"),
    ("GET", "/verify/api/v1/verify/"),
    ("GET", "/v1/verify-status/"),
    ("POST", "/__devnet/faults"),
];

struct Running {
    addr: SocketAddr,
    // Kept alive for the life of the process.
    _runtime: tokio::runtime::Runtime,
    _devnet: ario_devnet::Devnet,
    _dir: std::path::PathBuf,
}

fn devnet() -> Option<&'static Running> {
    static DEVNET: OnceLock<Option<Running>> = OnceLock::new();
    DEVNET
        .get_or_init(|| {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .build()
                .ok()?;
            let dir = std::env::temp_dir().join(format!("ario-fuzz-devnet-{}", std::process::id()));
            let mut opts = ario_devnet::DevnetOptions::new(&dir);
            opts.key_bits = 1024;
            opts.max_item_bytes = 64 * 1024;
            let devnet = runtime.block_on(ario_devnet::Devnet::start(opts)).ok()?;
            Some(Running {
                addr: devnet.addr(),
                _runtime: runtime,
                _devnet: devnet,
                _dir: dir,
            })
        })
        .as_ref()
}

fn exchange(addr: SocketAddr, request: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect_timeout(&addr, Duration::from_secs(5))?;
    s.set_read_timeout(Some(Duration::from_secs(10)))?;
    s.write_all(request)?;
    let mut out = Vec::new();
    s.take(1 << 20).read_to_end(&mut out)?;
    Ok(out)
}

/// Sends one request built from `input` and checks the devnet answered.
pub(crate) fn run(input: &[u8]) {
    let d = devnet();
    assert!(d.is_some(), "the devnet did not start");
    let Some(d) = d else { return };
    let Some((&pick, rest)) = input.split_first() else {
        return;
    };
    let (method, path) = ROUTES[usize::from(pick) % ROUTES.len()];
    let split = rest.iter().position(|b| *b == 0).unwrap_or(0);
    let (tail, body) = rest.split_at(split);
    let tail: String = String::from_utf8_lossy(tail)
        .chars()
        .filter(|c| c.is_ascii_graphic() && *c != '?' && *c != '#')
        .take(200)
        .collect();
    let mut request = format!(
        "{method} {path}{tail} HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(body);
    let answer = exchange(d.addr, &request).unwrap_or_default();
    assert!(
        answer.starts_with(b"HTTP/1.1 "),
        "no HTTP answer to {method} {path}{tail} (a handler crashed?)"
    );
    let health = exchange(
        d.addr,
        b"GET /health HTTP/1.1\r\nHost: fuzz\r\nConnection: close\r\n\r\n",
    )
    .unwrap_or_default();
    assert!(
        health.starts_with(b"HTTP/1.1 200"),
        "the devnet stopped answering"
    );
}
