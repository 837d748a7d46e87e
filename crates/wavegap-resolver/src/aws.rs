//! The one place that builds AWS SDK configuration and clients.
//!
//! Credentials come from the standard chain (environment, profile files, SSO, web identity,
//! ECS/EC2 instance roles); `--profile` or the wave's profile picks a profile. The region is
//! the CLI's, else the wave's, else the chain's. An optional role is assumed on top for
//! cross-account waves. `--endpoint-url` (or the standard `AWS_ENDPOINT_URL*` variables, read
//! by `aws-config`) points the clients at an emulator. Retries and timeouts are bounded so a
//! broken network or a throttled account ends in an error, not a hang.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::sts::AssumeRoleProvider;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::SharedCredentialsProvider;

use wavegap_core::wave::is_region_name;

use crate::error::{CallContext, Error};

/// How to build the clients; the binary fills it from the CLI and the wave's `[aws]` table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSettings {
    pub profile: Option<String>,
    pub region: Option<String>,
    pub assume_role_arn: Option<String>,
    pub external_id: Option<String>,
    pub endpoint_url: Option<String>,
    /// Attempts per call, the first included (the SDK's standard retry mode with backoff).
    pub max_attempts: u32,
    pub connect_timeout: Duration,
    /// One attempt, from sending the request to the end of the response.
    pub attempt_timeout: Duration,
    /// One call, all attempts and backoff included.
    pub operation_timeout: Duration,
}

impl Default for ClientSettings {
    fn default() -> Self {
        ClientSettings {
            profile: None,
            region: None,
            assume_role_arn: None,
            external_id: None,
            endpoint_url: None,
            max_attempts: 5,
            connect_timeout: Duration::from_secs(5),
            attempt_timeout: Duration::from_secs(30),
            operation_timeout: Duration::from_secs(120),
        }
    }
}

impl ClientSettings {
    /// Settings from a wave's `[aws]` table; command-line values are applied on top by the caller.
    pub fn from_wave(aws: &wavegap_core::wave::AwsSettings) -> Self {
        ClientSettings {
            profile: aws.profile.clone(),
            region: aws.region.clone(),
            assume_role_arn: aws.assume_role_arn.clone(),
            external_id: aws.external_id.clone(),
            ..ClientSettings::default()
        }
    }
}

impl ClientSettings {
    /// These settings for one account of a wave: its region (else these), and its role and
    /// external id in place of the wave's, assumed with the same base credentials.
    #[must_use]
    pub fn for_account(&self, account: &wavegap_core::wave::Account) -> Self {
        ClientSettings {
            region: account.region.clone().or_else(|| self.region.clone()),
            assume_role_arn: account.assume_role_arn.clone(),
            external_id: account.external_id.clone(),
            ..self.clone()
        }
    }
}

/// The loaded configuration and every client wavegap uses.
#[derive(Debug, Clone)]
pub struct AwsContext {
    pub config: SdkConfig,
    pub ec2: aws_sdk_ec2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub s3: aws_sdk_s3::Client,
    pub(crate) call: CallContext,
}

impl AwsContext {
    /// Loads the configuration from the standard chain with `settings` applied. Credentials are
    /// resolved lazily, at the first call: a missing or expired credential shows up as that
    /// call's error.
    pub async fn new(settings: &ClientSettings) -> Result<Self, Error> {
        if let Some(region) = &settings.region
            && !is_region_name(region)
        {
            return Err(Error::InvalidRegion { region: region.clone() });
        }
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http_client())
            .retry_config(RetryConfig::standard().with_max_attempts(settings.max_attempts.max(1)))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(settings.connect_timeout)
                    .operation_attempt_timeout(settings.attempt_timeout)
                    .operation_timeout(settings.operation_timeout)
                    .build(),
            );
        if let Some(profile) = &settings.profile {
            loader = loader.profile_name(profile);
        }
        if let Some(region) = &settings.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(url) = &settings.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        let mut config = loader.load().await;
        let Some(region) = config.region().map(ToString::to_string) else {
            return Err(Error::NoRegion);
        };
        if !is_region_name(&region) {
            return Err(Error::InvalidRegion { region });
        }
        if let Some(arn) = &settings.assume_role_arn {
            let mut role = AssumeRoleProvider::builder(arn.clone()).session_name("wavegap").configure(&config);
            if let Some(id) = &settings.external_id {
                role = role.external_id(id.clone());
            }
            let provider = role.build().await;
            config = config.into_builder().credentials_provider(SharedCredentialsProvider::new(provider)).build();
        }
        let call = CallContext {
            region: Some(region),
            endpoint_url: settings.endpoint_url.clone().or_else(|| endpoint_from_env(&config)),
            max_attempts: settings.max_attempts.max(1),
        };
        // An emulator or gateway at a custom endpoint is addressed path-style (`endpoint/bucket`);
        // AWS itself takes the bucket in the host name.
        let custom_s3 = call.endpoint_url.is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
        let s3 = aws_sdk_s3::config::Builder::from(&config).force_path_style(custom_s3).build();
        Ok(AwsContext {
            ec2: aws_sdk_ec2::Client::new(&config),
            logs: aws_sdk_cloudwatchlogs::Client::new(&config),
            s3: aws_sdk_s3::Client::from_conf(s3),
            config,
            call,
        })
    }

    /// The CloudWatch Logs client (for the query runner).
    pub fn logs_client(&self) -> aws_sdk_cloudwatchlogs::Client {
        self.logs.clone()
    }

    pub fn ec2_client(&self) -> aws_sdk_ec2::Client {
        self.ec2.clone()
    }

    pub fn region(&self) -> Option<&str> {
        self.call.region.as_deref()
    }

    /// Fails unless these credentials act in account `id` (STS `GetCallerIdentity`, which
    /// needs no permission): a profile or role of the wrong account would otherwise resolve
    /// nothing and read as "no such servers".
    pub async fn check_account(&self, id: &str) -> Result<(), Error> {
        let sts = aws_sdk_sts::Client::new(&self.config);
        let me = sts.get_caller_identity().send().await.map_err(|e| self.classify("sts:GetCallerIdentity", &e))?;
        match me.account() {
            Some(found) if found != id => Err(Error::WrongAccount { expected: id.to_owned(), found: found.to_owned() }),
            _ => Ok(()),
        }
    }

    /// Maps a CloudWatch Logs (or any SDK) failure of `action` to a resolver [`Error`], with
    /// this context's region and endpoint, so callers outside this crate get the same messages.
    pub fn classify<E, R>(&self, action: &'static str, err: &aws_sdk_ec2::error::SdkError<E, R>) -> Error
    where
        E: aws_sdk_ec2::error::ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
        R: std::fmt::Debug + Send + Sync + 'static,
    {
        crate::error::classify(action, err, &self.call)
    }
}

/// The HTTP client of every AWS client wavegap builds: hyper with rustls on ring, HTTPS or
/// plain HTTP (an emulator on 127.0.0.1). The SDK crates are built without a default client,
/// so a client configured without this one fails at its first call instead of bringing in a
/// second TLS stack.
pub fn http_client() -> aws_sdk_ec2::config::SharedHttpClient {
    use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
    aws_smithy_http_client::Builder::new().tls_provider(Provider::Rustls(CryptoMode::Ring)).build_https()
}

/// A global endpoint URL from the environment or profile, as `aws-config` loaded it.
fn endpoint_from_env(config: &SdkConfig) -> Option<String> {
    config.endpoint_url().map(ToOwned::to_owned)
}
