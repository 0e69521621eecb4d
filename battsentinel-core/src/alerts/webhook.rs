//! A webhook [`Notifier`]: each alert event is POSTed as JSON to a URL, optionally signed with HMAC-SHA256.
//!
//! Feature `webhook` (on with `server`; native only). Delivery is blocking with a bounded timeout and is
//! driven by an [`super::Outbox`], never by the engine, so a slow receiver never blocks evaluation; failed
//! deliveries are retried by the outbox and recorded.
//!
//! **Wire format.** `POST <url>` with `Content-Type: application/json`, the body being the
//! [`AlertEvent`] as JSON (the same serde form as everywhere else), and headers
//! `X-BattSentinel-Event: raised|escalated|cleared`, `X-BattSentinel-Alert-Id: <n>` and, when a secret is
//! set, `X-BattSentinel-Signature: sha256=<hex HMAC-SHA256(secret, body)>` (the convention of GitHub and
//! Stripe webhooks: the receiver recomputes the MAC over the raw body and compares in constant time).
//!
//! **Outcome.** A 2xx status is a delivery. 408, 425, 429 and 5xx, time-outs and connection failures are
//! retryable; any other status (e.g. 400, 401, 404, 410) is a permanent failure: retrying cannot help.

use super::{AlertEvent, AlertEventKind, DeliveryError, Notifier};
use crate::params::{ParamError, ParamGuard};
use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;
use std::time::Duration;

type HmacSha256 = hmac::Hmac<sha2_11::Sha256>;

/// Validated webhook parameters (see [`WebhookParams`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookValidParams {
    url: String,
    #[serde(default)]
    secret: Option<String>,
    #[serde(default = "default_timeout_s")]
    timeout_s: f64,
}

fn default_timeout_s() -> f64 {
    10.0
}

impl WebhookValidParams {
    /// Destination URL (`http://` or `https://`).
    pub fn url(&self) -> &str {
        &self.url
    }
    /// Whether events are signed.
    pub fn is_signed(&self) -> bool {
        self.secret.is_some()
    }
    /// Time allowed for one delivery, connection included (s).
    pub fn timeout_s(&self) -> f64 {
        self.timeout_s
    }
}

/// Webhook parameters, unchecked: a URL, an optional signing secret, a time-out (default 10 s).
///
/// # Examples
/// ```
/// use battsentinel_core::alerts::WebhookParams;
/// use battsentinel_core::ParamGuard;
/// let p = WebhookParams::new("https://ops.example.com/hooks/battery").secret("s3cret").timeout_s(5.0);
/// assert!(p.check().unwrap().is_signed());
/// assert!(WebhookParams::new("ftp://example.com").check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct WebhookParams(WebhookValidParams);

impl WebhookParams {
    /// Parameters for `url`, unsigned, 10 s time-out.
    pub fn new(url: impl Into<String>) -> Self {
        WebhookParams(WebhookValidParams { url: url.into(), secret: None, timeout_s: default_timeout_s() })
    }
    /// Signs every event with HMAC-SHA256 under `secret`.
    pub fn secret(mut self, secret: impl Into<String>) -> Self {
        self.0.secret = Some(secret.into());
        self
    }
    /// Sets the time-out of one delivery (s).
    pub fn timeout_s(mut self, v: f64) -> Self {
        self.0.timeout_s = v;
        self
    }
}

impl ParamGuard for WebhookParams {
    type Checked = WebhookValidParams;

    fn check_ref(&self) -> Result<&WebhookValidParams, ParamError> {
        let p = &self.0;
        let rest = p.url.strip_prefix("https://").or_else(|| p.url.strip_prefix("http://"));
        match rest {
            Some(host)
                if !host.is_empty() && !host.starts_with('/') && !p.url.contains(char::is_whitespace) => {}
            _ => {
                return Err(ParamError::invalid(
                    "url",
                    &p.url,
                    "must be an http:// or https:// URL with a host",
                ))
            }
        }
        crate::params::positive("timeout_s", p.timeout_s)?;
        if p.secret.as_deref() == Some("") {
            return Err(ParamError::invalid("secret", "", "must not be empty (omit it for unsigned events)"));
        }
        Ok(p)
    }

    fn check(self) -> Result<WebhookValidParams, ParamError> {
        self.check_ref()?;
        Ok(self.0)
    }
}

impl ParamGuard for WebhookValidParams {
    type Checked = WebhookValidParams;

    fn check_ref(&self) -> Result<&WebhookValidParams, ParamError> {
        Ok(self)
    }

    fn check(self) -> Result<WebhookValidParams, ParamError> {
        Ok(self)
    }
}

/// Delivers alert events to an HTTP endpoint (see the [module docs](self) for the wire format).
///
/// # Examples
/// ```no_run
/// use battsentinel_core::alerts::{Outbox, WebhookParams, WebhookSink};
/// let mut sink = WebhookSink::new(WebhookParams::new("https://ops.example.com/hooks/battery").secret("s3cret"))?;
/// let mut outbox = Outbox::new(5, 2.0);
/// // outbox.enqueue(events); then, from a delivery loop:
/// outbox.flush(0.0, &mut sink);
/// # Ok::<(), battsentinel_core::ParamError>(())
/// ```
#[derive(Debug)]
pub struct WebhookSink {
    params: WebhookValidParams,
    agent: ureq::Agent,
    name: String,
}

impl WebhookSink {
    /// A sink for the validated `params`.
    ///
    /// # Errors
    /// [`ParamError`] for a URL that is not http(s), a non-positive time-out or an empty secret.
    pub fn new(params: impl ParamGuard<Checked = WebhookValidParams>) -> Result<Self, ParamError> {
        let params = params.check()?;
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs_f64(params.timeout_s)))
            .http_status_as_error(false)
            .build()
            .into();
        let name = format!("webhook:{}", params.url);
        Ok(WebhookSink { params, agent, name })
    }

    /// The parameters in force.
    pub fn params(&self) -> &WebhookValidParams {
        &self.params
    }
}

/// `sha256=<hex>` signature of `body` under `secret`, as sent in `X-BattSentinel-Signature`.
///
/// # Examples
/// ```
/// // RFC 4231 test case 2.
/// let sig = battsentinel_core::alerts::webhook_signature("Jefe", b"what do ya want for nothing?");
/// assert_eq!(sig, "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
/// ```
pub fn webhook_signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    };
    mac.update(body);
    let tag = mac.finalize().into_bytes();
    let mut s = String::with_capacity(7 + 64);
    s.push_str("sha256=");
    for b in tag.iter() {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn kind_name(k: AlertEventKind) -> &'static str {
    match k {
        AlertEventKind::Raised => "raised",
        AlertEventKind::Escalated => "escalated",
        AlertEventKind::Cleared => "cleared",
    }
}

/// Whether an HTTP status means "try again later".
fn retryable_status(status: u16) -> bool {
    matches!(status, 408 | 425 | 429) || status >= 500
}

impl Notifier for WebhookSink {
    fn name(&self) -> &str {
        &self.name
    }

    fn deliver(&mut self, event: &AlertEvent) -> Result<(), DeliveryError> {
        let body = serde_json::to_vec(event).map_err(|e| DeliveryError {
            message: format!("event not serialisable: {e}"),
            retryable: false,
        })?;
        let mut req = self
            .agent
            .post(&self.params.url)
            .header("Content-Type", "application/json")
            .header("User-Agent", concat!("battsentinel/", env!("CARGO_PKG_VERSION")))
            .header("X-BattSentinel-Event", kind_name(event.kind))
            .header("X-BattSentinel-Alert-Id", event.alert_id.to_string());
        if let Some(secret) = &self.params.secret {
            req = req.header("X-BattSentinel-Signature", webhook_signature(secret, &body));
        }
        match req.send(&body[..]) {
            Ok(resp) => {
                let status = resp.status().as_u16();
                if (200..300).contains(&status) {
                    Ok(())
                } else {
                    Err(DeliveryError {
                        message: format!("{} answered HTTP {status}", self.params.url),
                        retryable: retryable_status(status),
                    })
                }
            }
            Err(e) => Err(DeliveryError {
                message: format!("{}: {e}", self.params.url),
                retryable: !matches!(e, ureq::Error::BadUri(_) | ureq::Error::InvalidProxyUrl),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_rfc_4231_case_1() {
        let key = "\u{0b}".repeat(20);
        assert_eq!(
            webhook_signature(&key, b"Hi There"),
            "sha256=b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"
        );
    }

    #[test]
    fn statuses_are_classified() {
        for s in [408, 425, 429, 500, 502, 503] {
            assert!(retryable_status(s), "{s}");
        }
        for s in [400, 401, 403, 404, 410, 422] {
            assert!(!retryable_status(s), "{s}");
        }
    }

    #[test]
    fn bad_params_are_typed_errors() {
        for url in ["", "example.com", "ftp://x", "http://", "http:///path", "http://a b"] {
            assert!(WebhookParams::new(url).check().is_err(), "{url}");
        }
        assert!(WebhookParams::new("http://x").timeout_s(0.0).check().is_err());
        assert!(WebhookParams::new("http://x").secret("").check().is_err());
    }
}
