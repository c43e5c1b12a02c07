//! One module per provider: each reads a verified delivery and decides what it is ([`Triage`]).

pub mod github;
pub mod jira;
pub mod sentry;
pub mod slack;

use chrono::{DateTime, Utc};
use contracts::Provider;

use crate::configuration::Settings;
use crate::delivery::{Triage, VerifiedDelivery};
use crate::error::WebhookError;

/// Reads a delivery whose signature was checked; `parsed_at` is set when its body has been parsed.
pub fn triage(
    provider: Provider,
    settings: &Settings,
    delivery: VerifiedDelivery<'_>,
    parsed_at: &mut DateTime<Utc>,
) -> Result<Triage, WebhookError> {
    match provider {
        Provider::Github => github::triage(settings, delivery, parsed_at),
        Provider::Slack => slack::triage(settings, delivery, parsed_at),
        Provider::Jira => jira::triage(settings, delivery, parsed_at),
        Provider::Sentry => sentry::triage(settings, delivery, parsed_at),
    }
}
