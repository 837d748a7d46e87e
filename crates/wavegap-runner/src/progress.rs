//! What a run reports while it goes. The runner only emits [`Event`]s; the binary shows them
//! (a progress bar on a terminal, log lines otherwise, nothing with `-q`).

use wavegap_core::flow::TimeWindow;

/// One step of a run. `chunk` is the chunk's 1-based number in the plan.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// The run starts with this many queries (splits add more later).
    Planned {
        queries: usize,
    },
    Started {
        chunk: usize,
        window: TimeWindow,
        query_id: &'a str,
    },
    Finished {
        chunk: usize,
        window: TimeWindow,
        rows: usize,
        bytes_scanned: u64,
    },
    /// The query hit the row limit: it is replaced by one query per half window.
    Split {
        chunk: usize,
        window: TimeWindow,
        rows: usize,
    },
    /// `ended` when a started query ended badly (it no longer runs), not when a start was refused.
    Retry {
        chunk: usize,
        window: TimeWindow,
        reason: &'a str,
        ended: bool,
    },
    /// Given up: these log groups and window are missing from the report (`ended` as above).
    Gap {
        chunk: usize,
        window: TimeWindow,
        reason: &'a str,
        ended: bool,
    },
    /// Interrupted: this many running queries are being stopped.
    Stopping {
        running: usize,
    },
}

pub trait Progress: Send + Sync {
    fn event(&self, event: &Event<'_>);
}

/// Shows nothing (`-q`, tests).
#[derive(Debug, Default, Clone, Copy)]
pub struct Silent;

impl Progress for Silent {
    fn event(&self, _: &Event<'_>) {}
}

/// Plain `tracing` lines, for logs and pipes.
#[derive(Debug, Default, Clone, Copy)]
pub struct LogLines;

impl Progress for LogLines {
    fn event(&self, event: &Event<'_>) {
        match event {
            Event::Planned { queries } => tracing::info!("running {queries} queries"),
            Event::Started { chunk, window, query_id } => {
                tracing::info!("chunk {chunk} {}..{}: started query {query_id}", window.start, window.end);
            }
            Event::Finished { chunk, window, rows, bytes_scanned } => {
                tracing::info!(
                    "chunk {chunk} {}..{}: {rows} rows, {bytes_scanned} bytes scanned",
                    window.start,
                    window.end
                );
            }
            Event::Split { chunk, window, rows } => tracing::info!(
                "chunk {chunk} {}..{}: {rows} rows reached the row limit, splitting the window",
                window.start,
                window.end
            ),
            Event::Retry { chunk, window, reason, .. } => {
                tracing::warn!("chunk {chunk} {}..{}: {reason}, retrying", window.start, window.end);
            }
            Event::Gap { chunk, window, reason, .. } => {
                tracing::warn!("chunk {chunk} {}..{}: giving up: {reason}", window.start, window.end);
            }
            Event::Stopping { running } => tracing::warn!("interrupted: stopping {running} running queries"),
        }
    }
}
