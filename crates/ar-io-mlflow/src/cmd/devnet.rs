//! `ar-io-mlflow devnet [--port P] [--data-dir D]`

use std::path::PathBuf;

use anyhow::Context as _;
use ario_devnet::{default_data_dir, Devnet, DevnetOptions};

/// Arguments of `devnet`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// Port on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 4884)]
    port: u16,
    /// Where items and devnet keys persist (default ~/.ario-mlflow/devnet).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Refuse (402) items larger than this many bytes, as an unfunded wallet would see.
    #[arg(long)]
    free_limit_bytes: Option<usize>,
}

pub(crate) fn run(args: &Args) -> anyhow::Result<u8> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    rt.block_on(async {
        let mut opts = DevnetOptions::new(args.data_dir.clone().unwrap_or_else(default_data_dir));
        opts.port = args.port;
        opts.free_limit_bytes = args.free_limit_bytes;
        let dir = opts.data_dir.clone();
        let devnet = Devnet::start(opts).await.context("starting the devnet")?;
        println!("devnet listening on {}", devnet.url());
        println!("  data dir          {}", dir.display());
        println!("  items             {}", devnet.store().len());
        println!("  receipt signer    {}", devnet.receipt_signer());
        println!("  verify operator   {}", devnet.operator_address());
        println!("use it with:  export ARIO_MLFLOW_DEVNET={}", devnet.url());
        tokio::signal::ctrl_c()
            .await
            .context("waiting for Ctrl-C")?;
        devnet.shutdown().await;
        println!("devnet stopped");
        Ok(0)
    })
}
