//! The one async runtime and the one interrupt signal of a run.

use std::future::Future;
use std::sync::OnceLock;

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

/// The signal that stopped the run, set once by [`interrupted`].
static RECEIVED: OnceLock<i32> = OnceLock::new();

const SIGHUP: i32 = 1;
const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

/// Resolves when the run is asked to stop: Ctrl-C (SIGINT), and on Unix also SIGTERM (a CI
/// job cancelled, `kill`) and SIGHUP (the terminal closed). Never resolves when no handler can
/// be installed, so a run that cannot be interrupted still finishes.
pub async fn interrupted() {
    #[cfg(unix)]
    let signal = {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
            ctrl_c().await;
            let _ = RECEIVED.set(SIGINT);
            return;
        };
        tokio::select! {
            () = ctrl_c() => SIGINT,
            _ = term.recv() => SIGTERM,
            _ = hup.recv() => SIGHUP,
        }
    };
    #[cfg(not(unix))]
    let signal = {
        ctrl_c().await;
        SIGINT
    };
    let _ = RECEIVED.set(signal);
}

/// The exit code of a run stopped by a signal, as shells report it: 128 + the signal's
/// number (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP).
pub fn interrupted_exit_code() -> u8 {
    let signal = RECEIVED.get().copied().unwrap_or(SIGINT);
    u8::try_from(128 + signal).unwrap_or(130)
}

async fn ctrl_c() {
    if tokio::signal::ctrl_c().await.is_err() {
        std::future::pending::<()>().await;
    }
}
