//! The S3 source: the flow-log objects of an S3 destination, listed by the date prefixes of
//! the window and streamed into the local engine ([`crate::local`]) — nothing is written to
//! disk.
//!
//! A destination keeps its objects under `<prefix>AWSLogs/`, in one of two layouts:
//!
//! - `<account>/vpcflowlogs/<region>/YYYY/MM/DD/[HH/]<object>`;
//! - Hive-compatible: `aws-account-id=<account>/aws-service=vpcflowlogs/aws-region=<region>/
//!   year=YYYY/month=MM/day=DD/[hour=HH/]<object>`.
//!
//! The accounts and regions are listed one level at a time (with `/` as the delimiter); then
//! only the days, and inside them the hours, that can hold objects of the window are listed.
//! Every other date prefix is never listed. Objects are read by reader threads, each
//! streaming `GetObject`'s body through gzip into the engine chunk by chunk, exactly as a file
//! on disk is read. An object that cannot be fetched or read whole is damaged input, named in
//! the report; a bucket that cannot be listed is an error.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use aws_sdk_s3::Client;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::primitives::ByteStream;
use tokio::runtime::Handle;
use tokio_util::io::SyncIoBridge;
use wavegap_core::flow::{S3Requests, TimeWindow};
use wavegap_core::wave::S3Location;
use wavegap_insights::{Executor, Query};

use crate::RunnerError;
use crate::local::{self, FileKind, LocalOptions, LocalOutput, RandomAccess, Store};

/// Dollars per 1,000 LIST requests and per 1,000 GET requests (S3 Standard, us-east-1).
pub const LIST_PRICE: f64 = 0.005;
pub const GET_PRICE: f64 = 0.0004;
/// Reader threads per core: a thread mostly waits for its object's bytes.
const THREADS_PER_CORE: usize = 4;

/// A bucket's flow-log objects, and the requests made of it so far.
pub struct Bucket {
    client: Client,
    location: S3Location,
    handle: Handle,
    list: AtomicU64,
    get: AtomicU64,
    bytes: AtomicU64,
}

impl Bucket {
    /// `handle` runs the SDK's futures; the caller is on a blocking thread, off the runtime.
    pub fn new(client: Client, location: S3Location, handle: Handle) -> Self {
        Bucket { client, location, handle, list: AtomicU64::new(0), get: AtomicU64::new(0), bytes: AtomicU64::new(0) }
    }

    /// Runs `query` over the objects that can hold records of `window` (of `region` only,
    /// when given).
    /// `finish` makes the result from the query's state, as in [`local::run_query_with`].
    pub fn run_query<R>(
        &self,
        query: &Query,
        window: TimeWindow,
        region: Option<&str>,
        options: &LocalOptions,
        finish: impl FnOnce(Executor) -> R,
    ) -> Result<LocalOutput<R>, RunnerError> {
        let objects = self.handle.block_on(self.objects(window, region))?;
        let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
        let options =
            LocalOptions { threads: Some(options.threads.unwrap_or(cores * THREADS_PER_CORE)), ..options.clone() };
        Ok(local::run_objects(self, objects, query, Some(window), &options, finish)?)
    }

    /// The requests made so far and the bytes their answers carried.
    pub fn requests(&self) -> S3Requests {
        S3Requests {
            list: self.list.load(Ordering::Relaxed),
            get: self.get.load(Ordering::Relaxed),
            bytes: self.bytes.load(Ordering::Relaxed),
        }
    }

    /// Every flow-log object under the date prefixes of `window`, with what its name says.
    async fn objects(&self, window: TimeWindow, region: Option<&str>) -> Result<Vec<(PathBuf, FileKind)>, RunnerError> {
        let (from, to) = local::object_times(window);
        let root = self.location.logs_prefix();
        let accounts = self.list_dir(&root).await?.prefixes;
        if accounts.is_empty() {
            return Err(RunnerError::S3 {
                operation: "ListObjectsV2",
                target: format!("s3://{}/{root}", self.location.bucket),
                code: "NoFlowLogs".to_owned(),
                message: "no account folders under this prefix".to_owned(),
                hint: "the `s3` URL names the bucket and the prefix above `AWSLogs/`, as the flow log's \
                       destination ARN does (arn:aws:s3:::bucket/prefix)",
            });
        }
        let mut days = Vec::new();
        for account in accounts {
            let hive = segment(&account).starts_with("aws-account-id=");
            let service = if hive { "aws-service=vpcflowlogs/" } else { "vpcflowlogs/" };
            for region_dir in self.list_dir(&format!("{account}{service}")).await?.prefixes {
                let name = segment(&region_dir);
                let name = name.strip_prefix("aws-region=").unwrap_or(name);
                if region.is_some_and(|r| r != name) {
                    continue;
                }
                days.extend(day_prefixes(&region_dir, hive, from, to));
            }
        }
        let mut objects = Vec::new();
        for day in days {
            let listed = self.list_dir(&day).await?;
            let mut keys = listed.keys;
            for hour_dir in listed.prefixes {
                if hour_prefix_meets(&day, &hour_dir, from, to) {
                    keys.extend(self.list_dir(&hour_dir).await?.keys);
                }
            }
            for key in keys {
                let name = PathBuf::from(format!("s3://{}/{key}", self.location.bucket));
                if let Some(kind) = local::kind_of(&name) {
                    objects.push((name, kind));
                }
            }
        }
        objects.sort();
        Ok(objects)
    }

    /// One level under `prefix`: the keys in it and the prefixes below it.
    async fn list_dir(&self, prefix: &str) -> Result<Listing, RunnerError> {
        let mut listing = Listing::default();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.location.bucket)
            .prefix(prefix)
            .delimiter("/")
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            self.list.fetch_add(1, Ordering::Relaxed);
            let page = page.map_err(|e| self.error("ListObjectsV2", prefix, &e))?;
            listing.keys.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_owned)));
            listing.prefixes.extend(page.common_prefixes().iter().filter_map(|p| p.prefix().map(str::to_owned)));
        }
        Ok(listing)
    }

    fn error<E, R>(&self, operation: &'static str, prefix: &str, err: &SdkError<E, R>) -> RunnerError
    where
        E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        let target = format!("s3://{}/{prefix}", self.location.bucket);
        let (code, message) = describe(err);
        let hint = match code.as_str() {
            "NoSuchBucket" => "check the bucket name in the wave's `s3` URL, and the account the credentials are for",
            "AccessDenied" | "Forbidden" | "AllAccessDisabled" => {
                "the credentials need s3:ListBucket on the bucket and s3:GetObject on its objects (see the README's IAM policy)"
            }
            "Unreachable" => "check the network path to S3 (proxy, VPC endpoint) and the region",
            _ => "run again with -v for the whole error",
        };
        RunnerError::S3 { operation, target, code, message, hint }
    }
}

/// The AWS error code and message, or `Unreachable` and the transport error.
fn describe<E, R>(err: &SdkError<E, R>) -> (String, String)
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    if let Some(code) = err.code() {
        return (code.to_owned(), err.message().unwrap_or_default().to_owned());
    }
    let code = match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => "Unreachable",
        _ => "Error",
    };
    (code.to_owned(), wavegap_core::error_line(err))
}

impl Bucket {
    /// `GetObject` of the object `name` (as the listing named it), and its size.
    fn get_object(&self, name: &Path) -> Result<(ByteStream, u64), String> {
        let name = name.to_string_lossy();
        let key = name
            .strip_prefix(&format!("s3://{}/", self.location.bucket))
            .ok_or_else(|| format!("`{name}` is not an object of this bucket"))?;
        self.get.fetch_add(1, Ordering::Relaxed);
        let object = self.handle.block_on(self.client.get_object().bucket(&self.location.bucket).key(key).send());
        let object = object.map_err(|e| {
            let (code, message) = describe(&e);
            format!("GetObject failed: {code}: {message}; skipped")
        })?;
        let size = object.content_length().and_then(|n| u64::try_from(n).ok()).unwrap_or(0);
        self.bytes.fetch_add(size, Ordering::Relaxed);
        Ok((object.body, size))
    }
}

impl Store for Bucket {
    fn open(&self, name: &Path) -> Result<Box<dyn Read + '_>, String> {
        let (body, _) = self.get_object(name)?;
        let body = Box::pin(body.into_async_read());
        Ok(Box::new(SyncIoBridge::new_with_handle(body, self.handle.clone())))
    }

    fn open_random(&self, name: &Path) -> Result<RandomAccess, String> {
        let (body, size) = self.get_object(name)?;
        if size > local::MAX_RANDOM_ACCESS {
            return Err(format!("{size} bytes, more than a flow-log object holds; skipped"));
        }
        let bytes = self.handle.block_on(body.collect()).map_err(|e| format!("cannot read: {e}; skipped"))?;
        Ok(RandomAccess::Bytes(bytes.into_bytes()))
    }
}

#[derive(Debug, Default)]
struct Listing {
    keys: Vec<String>,
    prefixes: Vec<String>,
}

/// The last path segment of a common prefix (`a/b/c/` → `c`).
fn segment(prefix: &str) -> &str {
    prefix.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

/// The day prefixes under `region_dir` of the days from `from` to `to` (Unix seconds).
fn day_prefixes(region_dir: &str, hive: bool, from: i64, to: i64) -> Vec<String> {
    let format = if hive { "year=%Y/month=%m/day=%d/" } else { "%Y/%m/%d/" };
    (from.div_euclid(86_400)..=to.div_euclid(86_400))
        .filter_map(|day| chrono::DateTime::from_timestamp(day * 86_400, 0))
        .map(|day| format!("{region_dir}{}", day.format(format)))
        .collect()
}

/// Whether the hour folder `hour_dir` (`…/HH/` or `…/hour=HH/`) under `day` holds object
/// times from `from` to `to`. A folder that is not an hour is listed, to be safe.
fn hour_prefix_meets(day: &str, hour_dir: &str, from: i64, to: i64) -> bool {
    let name = segment(hour_dir);
    let Ok(hour) = name.strip_prefix("hour=").unwrap_or(name).parse::<i64>() else { return true };
    let Some(start) = day_start(day) else { return true };
    let begins = start + hour * 3600;
    begins <= to && begins + 3599 >= from
}

/// The start (Unix seconds) of the day a day prefix names (`…/2026/03/02/` or
/// `…/year=2026/month=03/day=02/`).
fn day_start(day: &str) -> Option<i64> {
    let mut parts = day.trim_end_matches('/').rsplit('/');
    let mut next = |key: &str| -> Option<u32> {
        let part = parts.next()?;
        part.strip_prefix(key).unwrap_or(part).parse().ok()
    };
    let (d, m, y) = (next("day=")?, next("month=")?, next("year=")?);
    let date = chrono::NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, d)?;
    Some(date.and_hms_opt(0, 0, 0)?.and_utc().timestamp())
}

/// Dollars for `requests`, at S3 Standard's request prices.
pub fn cost(requests: S3Requests) -> f64 {
    #[allow(clippy::cast_precision_loss)]
    let (list, get) = (requests.list as f64, requests.get as f64);
    (list * LIST_PRICE + get * GET_PRICE) / 1000.0
}

#[cfg(test)]
mod tests {
    use super::*;

    const T0: i64 = 1_772_442_000; // 2026-03-02T09:00:00Z

    #[test]
    fn only_the_days_and_hours_of_the_window_are_listed() {
        assert_eq!(
            day_prefixes("AWSLogs/1/vpcflowlogs/eu-west-1/", false, T0 - 900, T0 + 3600),
            ["AWSLogs/1/vpcflowlogs/eu-west-1/2026/03/02/"]
        );
        // Over midnight: both days; Hive names.
        let late = T0 + 14 * 3600 + 1800; // 23:30
        assert_eq!(
            day_prefixes("r/", true, late, late + 3600),
            ["r/year=2026/month=03/day=02/", "r/year=2026/month=03/day=03/"]
        );
        let day = "AWSLogs/1/vpcflowlogs/eu-west-1/2026/03/02/";
        let hours: Vec<i64> =
            (0..24).filter(|h| hour_prefix_meets(day, &format!("{day}{h:02}/"), T0 - 900, T0 + 3600)).collect();
        assert_eq!(hours, [8, 9, 10]);
        let hive = "r/year=2026/month=03/day=02/";
        let hours: Vec<i64> =
            (0..24).filter(|h| hour_prefix_meets(hive, &format!("{hive}hour={h:02}/"), T0, T0 + 60)).collect();
        assert_eq!(hours, [9]);
        assert!(hour_prefix_meets(day, &format!("{day}misc/"), T0, T0));
        assert_eq!(day_start(hive), Some(T0 - 9 * 3600));
    }

    #[test]
    fn request_cost() {
        let c = cost(S3Requests { list: 2000, get: 10_000, bytes: 0 });
        assert!((c - 0.014).abs() < 1e-12, "{c}");
        assert_eq!(segment("a/aws-region=eu-west-1/"), "aws-region=eu-west-1");
    }
}
