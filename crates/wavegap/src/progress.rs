//! How a query run shows its progress on stderr: a bar on a terminal, plain lines otherwise,
//! nothing with `-q`.

use std::sync::Mutex;
use std::time::Duration;

use indicatif::{HumanBytes, ProgressBar, ProgressStyle};
use wavegap_runner::progress::{Event, Progress};

/// Picks the display for this run.
pub fn for_stderr(quiet: bool, terminal: bool) -> std::sync::Arc<dyn Progress> {
    if quiet {
        std::sync::Arc::new(wavegap_runner::progress::Silent)
    } else if terminal {
        std::sync::Arc::new(Bar::new())
    } else {
        std::sync::Arc::new(Lines)
    }
}

#[derive(Debug, Default)]
struct Counts {
    total: u64,
    running: u64,
    done: u64,
    bytes: u64,
}

/// `[00:12] ████░░ 5/9 queries · 3 running · 1 queued · 812 MB scanned`
struct Bar {
    bar: ProgressBar,
    counts: Mutex<Counts>,
}

impl Bar {
    fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.set_style(
            ProgressStyle::with_template("[{elapsed_precise}] {bar:30} {pos}/{len} queries · {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(200));
        Bar { bar, counts: Mutex::new(Counts::default()) }
    }
}

impl Progress for Bar {
    fn event(&self, event: &Event<'_>) {
        let Ok(mut c) = self.counts.lock() else { return };
        match event {
            Event::Planned { queries } => c.total = *queries as u64,
            Event::Started { .. } => c.running += 1,
            Event::Finished { bytes_scanned, .. } => {
                c.running = c.running.saturating_sub(1);
                c.done += 1;
                c.bytes += bytes_scanned;
            }
            // One query becomes two.
            Event::Split { .. } => {
                c.running = c.running.saturating_sub(1);
                c.total += 1;
            }
            Event::Retry { reason, ended, .. } => {
                if *ended {
                    c.running = c.running.saturating_sub(1);
                }
                self.bar.println(format!("retrying: {reason}"));
            }
            Event::Gap { chunk, window, reason, ended } => {
                if *ended {
                    c.running = c.running.saturating_sub(1);
                }
                c.done += 1;
                self.bar.println(format!("chunk {chunk} {}..{}: missing, {reason}", window.start, window.end));
            }
            Event::Stopping { running } => {
                self.bar.println(format!("interrupted: stopping {running} running queries"));
            }
        }
        let queued = c.total.saturating_sub(c.done + c.running);
        self.bar.set_length(c.total);
        self.bar.set_position(c.done);
        self.bar.set_message(format!("{} running · {queued} queued · {} scanned", c.running, HumanBytes(c.bytes)));
        if c.done >= c.total && c.total > 0 {
            self.bar.finish_and_clear();
        }
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.bar.finish_and_clear();
    }
}

/// One line per query event, for logs and CI.
struct Lines;

impl Progress for Lines {
    fn event(&self, event: &Event<'_>) {
        let line = match event {
            Event::Planned { queries } => format!("running {queries} queries"),
            Event::Started { chunk, window, query_id } => {
                format!("chunk {chunk} {}..{}: started {query_id}", window.start, window.end)
            }
            Event::Finished { chunk, window, rows, bytes_scanned } => {
                format!("chunk {chunk} {}..{}: {rows} rows, {bytes_scanned} bytes scanned", window.start, window.end)
            }
            Event::Split { chunk, window, rows } => {
                format!(
                    "chunk {chunk} {}..{}: {rows} rows reach the row limit, splitting the window",
                    window.start, window.end
                )
            }
            Event::Retry { chunk, window, reason, .. } => {
                format!("chunk {chunk} {}..{}: {reason}, retrying", window.start, window.end)
            }
            Event::Gap { chunk, window, reason, .. } => {
                format!("chunk {chunk} {}..{}: missing, {reason}", window.start, window.end)
            }
            Event::Stopping { running } => format!("interrupted: stopping {running} running queries"),
        };
        eprintln!("{line}");
    }
}
