//! The one async runtime and the one interrupt signal of a run.

use std::future::Future;

use anyhow::Context as _;

use crate::exit::{Failure, Kind, OrFail as _};

/// Runs `future` to completion on a multi-threaded runtime built for it.
pub fn block_on<F: Future>(future: F) -> Result<F::Output, Failure> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
        .or_fail(Kind::Aws)?;
    Ok(runtime.block_on(future))
}

/// Resolves when the run is asked to stop: Ctrl-C (SIGINT), and on Unix also SIGTERM (a CI
/// job cancelled, `kill`) and SIGHUP (the terminal closed). Never resolves when no handler can
/// be installed, so a run that cannot be interrupted still finishes.
pub async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
            return ctrl_c().await;
        };
        tokio::select! {
            () = ctrl_c() => {}
            _ = term.recv() => {}
            _ = hup.recv() => {}
        }
    }
    #[cfg(not(unix))]
    ctrl_c().await;
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
