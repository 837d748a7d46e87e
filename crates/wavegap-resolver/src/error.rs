//! The resolver's errors, and the mapping of SDK failures to messages a person can act on.

use std::error::Error as StdError;
use std::fmt::Debug;
use std::path::PathBuf;

use aws_credential_types::provider::error::CredentialsError;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "no AWS credentials found ({detail})\nhint: run `aws configure` or `aws sso login`, pass --profile, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY"
    )]
    MissingCredentials { detail: String },

    #[error(
        "AWS credentials have expired ({detail})\nhint: refresh them (`aws sso login`, or new session credentials) and run again"
    )]
    ExpiredCredentials { detail: String },

    #[error(
        "AWS rejected the credentials: {code}: {message}\nhint: check the access key id and secret, or the profile in use (`aws sts get-caller-identity`)"
    )]
    InvalidCredentials { code: String, message: String },

    #[error(
        "could not load AWS credentials: {detail}\nhint: check the profile's credential settings (`aws configure list`)"
    )]
    CredentialsProvider { detail: String },

    #[error(
        "access denied for {action}: {code}: {message}\nhint: the identity in use needs `{action}` (see the IAM policy in README.md)"
    )]
    AccessDenied { action: &'static str, code: String, message: String },

    #[error(
        "no AWS region configured\nhint: pass --region, set `region` under [aws] in the wave file, or set AWS_REGION"
    )]
    NoRegion,

    #[error(
        "`{region}` is not a valid AWS region name\nhint: regions look like `eu-west-1`; pass --region or fix `region` in the wave file"
    )]
    InvalidRegion { region: String },

    #[error(
        "cannot reach AWS in region `{region}`: unknown or unreachable region ({detail})\nhint: check the region name (`aws ec2 describe-regions`) and the network"
    )]
    UnknownRegion { region: String, detail: String },

    #[error(
        "region `{region}` is not enabled for this account ({action}: {message})\nhint: enable the region in the account settings, or use another region"
    )]
    RegionNotEnabled { region: String, action: &'static str, message: String },

    #[error(
        "{action} is still throttled after {attempts} attempts: {code}\nhint: wait a minute and run again, or lower concurrent use of the AWS API in this account"
    )]
    Throttled { action: &'static str, attempts: u32, code: String },

    #[error("{action} timed out ({detail})\nhint: check the network path to AWS (proxy, VPC endpoints) and run again")]
    Timeout { action: &'static str, detail: String },

    #[error(
        "{action} failed: cannot reach the AWS endpoint ({detail})\nhint: check the network, any proxy, and --endpoint-url / AWS_ENDPOINT_URL"
    )]
    Unreachable { action: &'static str, detail: String },

    #[error("{action} failed: {code}: {message}")]
    Service { action: &'static str, code: String, message: String },

    #[error("{action} failed: {detail}")]
    Other { action: &'static str, detail: String },

    #[error(
        "log group `{name}` does not exist in region {region}\nhint: fix `log-groups` in the wave file, or use `discover = true` to take them from the flow logs"
    )]
    LogGroupNotFound { name: String, region: String },

    #[error("cannot read {}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    #[error("{}: not valid EC2 JSON", path.display())]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },

    #[error(
        "{}: none of the EC2 response keys ({keys})\nhint: a snapshot holds the output of `aws ec2 describe-… --output json`, e.g. {{\"Vpcs\": [...]}}",
        path.display()
    )]
    NotASnapshot { path: PathBuf, keys: String },

    #[error("{}: no JSON files in this directory\nhint: put the `aws ec2 describe-… --output json` outputs there as *.json files", path.display())]
    EmptyDirectory { path: PathBuf },

    #[error("{}: not a regular file or directory (a device, FIFO or socket); not read\nhint: point the inventory at a snapshot file or a directory of them", path.display())]
    NotAFile { path: PathBuf },

    #[error("{}: {bytes} bytes, more than the 1 GiB a snapshot may have; not read\nhint: is this the right file? A snapshot holds the JSON of `aws ec2 describe-…` calls", path.display())]
    TooLarge { path: PathBuf, bytes: u64 },

    #[error("{element}: {problem}")]
    Element {
        /// Where in the snapshot: `NetworkInterfaces[12]`.
        element: String,
        problem: Box<Error>,
    },

    #[error("invalid {field} `{value}` in {resource}")]
    Invalid { resource: String, field: &'static str, value: String },

    #[error("{resource} has no {field}")]
    Missing { resource: String, field: &'static str },

    #[error(
        "the credentials act in account {found}, not in {expected}\nhint: set the account's `assume-role-arn` to a role in {expected}, or use a profile of that account"
    )]
    WrongAccount { expected: String, found: String },

    #[error("account {account}: {problem}")]
    InAccount {
        /// The account's label (`prod (111122223333)`).
        account: String,
        problem: Box<Error>,
    },
}

impl Error {
    /// Whether the fix is in the wave file, the command line or the input files (exit code 2)
    /// rather than in AWS access, the network or the file system (exit code 3).
    pub fn is_config(&self) -> bool {
        if let Error::Element { problem, .. } | Error::InAccount { problem, .. } = self {
            return problem.is_config();
        }
        matches!(
            self,
            Error::NoRegion
                | Error::InvalidRegion { .. }
                | Error::LogGroupNotFound { .. }
                | Error::Json { .. }
                | Error::NotASnapshot { .. }
                | Error::EmptyDirectory { .. }
                | Error::NotAFile { .. }
                | Error::TooLarge { .. }
                | Error::Invalid { .. }
                | Error::Missing { .. }
                | Error::WrongAccount { .. }
        )
    }
}

/// What the classification needs to know about the client that made the call.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    pub region: Option<String>,
    /// A custom endpoint (emulator, VPC endpoint): network errors are then not about the region.
    pub endpoint_url: Option<String>,
    pub max_attempts: u32,
}

/// Maps an SDK failure of `action` (an IAM action name such as `ec2:DescribeVpcs`) to an
/// [`Error`] that says what went wrong and what to do about it.
pub fn classify<E, R>(action: &'static str, err: &SdkError<E, R>, ctx: &CallContext) -> Error
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    R: Debug + Send + Sync + 'static,
{
    if let Some(code) = err.code() {
        let code = code.to_owned();
        let message = err.message().unwrap_or_default().to_owned();
        return match code.as_str() {
            "UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException" | "Forbidden" => {
                Error::AccessDenied { action, code, message }
            }
            "AuthFailure"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
            | "IncompleteSignature"
            | "InvalidAccessKeyId"
            | "MissingAuthenticationToken" => Error::InvalidCredentials { code, message },
            "ExpiredToken" | "ExpiredTokenException" | "RequestExpired" | "TokenRefreshRequired" => {
                Error::ExpiredCredentials { detail: format!("{code}: {message}") }
            }
            "Throttling"
            | "ThrottlingException"
            | "RequestLimitExceeded"
            | "TooManyRequestsException"
            | "RequestThrottled"
            | "RequestThrottledException"
            | "SlowDown" => Error::Throttled { action, attempts: ctx.max_attempts, code },
            "OptInRequired" => {
                Error::RegionNotEnabled { region: ctx.region.clone().unwrap_or_default(), action, message }
            }
            _ => Error::Service { action, code, message },
        };
    }
    let detail = wavegap_core::error_line(err);
    if let Some(cred) = find_source::<CredentialsError>(err) {
        let full = DisplayErrorContext(cred).to_string();
        // An assume-role refusal arrives as a credentials error wrapping STS's answer.
        if full.contains("AccessDenied") && full.contains("AssumeRole") {
            let message = between(&full, "<Message>", "</Message>")
                .unwrap_or("the role's trust policy or the caller's permissions refuse it")
                .to_owned();
            return Error::AccessDenied { action: "sts:AssumeRole", code: "AccessDenied".into(), message };
        }
        let detail = shorten(&wavegap_core::error_line(cred), 300);
        return match cred {
            CredentialsError::CredentialsNotLoaded(_) => Error::MissingCredentials { detail },
            _ if detail.to_ascii_lowercase().contains("expired") => Error::ExpiredCredentials { detail },
            _ => Error::CredentialsProvider { detail },
        };
    }
    match err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => {
            if ctx.endpoint_url.is_none()
                && let Some(region) = ctx.region.as_deref().filter(|r| !is_known_region(r))
            {
                return Error::UnknownRegion { region: region.to_owned(), detail };
            }
            let timeout = matches!(err, SdkError::TimeoutError(_))
                || matches!(err, SdkError::DispatchFailure(d) if d.is_timeout());
            if timeout { Error::Timeout { action, detail } } else { Error::Unreachable { action, detail } }
        }
        _ => Error::Other { action, detail },
    }
}

fn between<'a>(text: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(&text[start..end])
}

/// The first `max` characters of an SDK error's text (they can carry a whole HTTP response).
fn shorten(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &text[..i]),
        None => text.to_owned(),
    }
}

fn find_source<'a, T: StdError + 'static>(err: &'a (dyn StdError + 'static)) -> Option<&'a T> {
    let mut cur: Option<&(dyn StdError + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(found) = e.downcast_ref::<T>() {
            return Some(found);
        }
        cur = e.source();
    }
    None
}

/// Regions this build knows. A region outside the list still works; it only changes how a
/// network failure is explained.
const KNOWN_REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "cn-north-1",
    "cn-northwest-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-gov-east-1",
    "us-gov-west-1",
    "us-west-1",
    "us-west-2",
];

pub fn is_known_region(region: &str) -> bool {
    KNOWN_REGIONS.contains(&region)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn region_names() {
        for (r, ok) in [
            ("eu-west-1", true),
            ("us-gov-east-1", true),
            ("mars-north-9", false),
            ("xx-north-9", true),
            ("EU-west-1", false),
            ("euwest1", false),
            ("eu-west-", false),
            ("eu-west-x", false),
            ("", false),
        ] {
            assert_eq!(wavegap_core::wave::is_region_name(r), ok, "{r}");
        }
        assert!(is_known_region("eu-west-1") && !is_known_region("xx-north-9"));
    }
}
