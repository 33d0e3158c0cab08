//! ICE diagnostics, as pure logic unit-tested natively; `peer.rs` only feeds it browser values.
//!
//! - The `?ice-transport-policy=relay` query parameter (a diagnostic and test setting, not for
//!   everyday use): the peer connection then only uses TURN relay candidates, which proves the
//!   configured TURN server works (a call that connects at all went through it).
//! - Which candidate pair ICE selected, read from `getStats()` once the connection is up, so a
//!   test (or a person with the developer tools open) can see whether media is relayed. The pair
//!   reaches the reducer as `Action::SelectedCandidatePairRead`; the components render it as
//!   `data-selected-candidate-type` (our side's candidate type: `host`, `srflx`, `prflx`,
//!   `relay`) and `data-selected-remote-candidate-type` (the peer's side) on the remote `<video>`.

use crate::errors::IceTransportPolicyError;
use crate::stats::StatsEntry;

/// The query parameter that sets `RTCConfiguration.iceTransportPolicy`.
pub const ICE_TRANSPORT_POLICY_QUERY_PARAMETER: &str = "ice-transport-policy";

/// Which ICE candidates the peer connection may use (`RTCIceTransportPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum IceTransportPolicy {
    /// Every candidate: host, server-reflexive and relay (the browser's default).
    #[default]
    All,
    /// Only TURN relay candidates.
    Relay,
}

impl IceTransportPolicy {
    /// The policy asked for by the query parameter's value: none or empty means the default.
    pub fn from_query_value(value: Option<&str>) -> Result<IceTransportPolicy, IceTransportPolicyError> {
        match value.map(str::trim) {
            None | Some("") => Ok(IceTransportPolicy::All),
            Some(text) if text.eq_ignore_ascii_case("all") => Ok(IceTransportPolicy::All),
            Some(text) if text.eq_ignore_ascii_case("relay") => Ok(IceTransportPolicy::Relay),
            Some(text) => Err(IceTransportPolicyError { value: text.to_owned() }),
        }
    }

    /// The `RTCIceTransportPolicy` enum value.
    pub fn as_str(self) -> &'static str {
        match self {
            IceTransportPolicy::All => "all",
            IceTransportPolicy::Relay => "relay",
        }
    }
}

/// The candidate types of the pair ICE selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectedCandidatePair {
    pub local_type: String,
    pub remote_type: String,
}

fn string_field<'a>(entry: &'a StatsEntry, field: &str) -> Option<&'a str> {
    entry.text(field)
}

fn entry_of_type<'a>(stats: &'a [StatsEntry], kind: &str, id: &str) -> Option<&'a StatsEntry> {
    stats.iter().find(|entry| string_field(entry, "type") == Some(kind) && string_field(entry, "id") == Some(id))
}

/// The selected pair among `getStats()` entries (each one `RTCStats` dictionary):
/// the pair a `transport` entry names in `selectedCandidatePairId`, or else (browsers without
/// that field) a nominated `candidate-pair` whose state is `succeeded`. `None` while there is
/// none, or when its candidates are missing from the report.
pub fn selected_candidate_pair(stats: &[StatsEntry]) -> Option<SelectedCandidatePair> {
    let pair = selected_pair_entry(stats)?;
    let local = entry_of_type(stats, "local-candidate", string_field(pair, "localCandidateId")?)?;
    let remote = entry_of_type(stats, "remote-candidate", string_field(pair, "remoteCandidateId")?)?;
    Some(SelectedCandidatePair {
        local_type: string_field(local, "candidateType")?.to_owned(),
        remote_type: string_field(remote, "candidateType")?.to_owned(),
    })
}

/// The selected `candidate-pair` entry itself (see [`selected_candidate_pair`]); the call
/// statistics read its round-trip time and available bitrate.
pub fn selected_pair_entry(stats: &[StatsEntry]) -> Option<&StatsEntry> {
    let by_transport = stats
        .iter()
        .filter(|entry| string_field(entry, "type") == Some("transport"))
        .filter_map(|transport| string_field(transport, "selectedCandidatePairId"))
        .find_map(|pair_id| entry_of_type(stats, "candidate-pair", pair_id));
    by_transport.or_else(|| {
        stats.iter().find(|entry| {
            string_field(entry, "type") == Some("candidate-pair")
                && entry.flag("nominated") == Some(true)
                && string_field(entry, "state") == Some("succeeded")
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::entries_from_json;
    use serde_json::json;

    #[test]
    fn policy_defaults_to_all_when_absent_or_empty() {
        assert_eq!(IceTransportPolicy::from_query_value(None), Ok(IceTransportPolicy::All));
        assert_eq!(IceTransportPolicy::from_query_value(Some(" ")), Ok(IceTransportPolicy::All));
        assert_eq!(IceTransportPolicy::default().as_str(), "all");
    }

    #[test]
    fn policy_relay_and_all_are_recognised_in_any_case() {
        assert_eq!(IceTransportPolicy::from_query_value(Some("relay")), Ok(IceTransportPolicy::Relay));
        assert_eq!(IceTransportPolicy::from_query_value(Some(" RELAY ")), Ok(IceTransportPolicy::Relay));
        assert_eq!(IceTransportPolicy::from_query_value(Some("All")), Ok(IceTransportPolicy::All));
        assert_eq!(IceTransportPolicy::Relay.as_str(), "relay");
    }

    #[test]
    fn unknown_policy_is_reported_in_words() {
        let error = IceTransportPolicy::from_query_value(Some("realy")).expect_err("a typo is refused").to_string();
        assert!(error.contains("ice-transport-policy=\"realy\""), "{error}");
    }

    fn candidate(kind: &str, id: &str, candidate_type: &str) -> serde_json::Value {
        json!({ "type": kind, "id": id, "candidateType": candidate_type, "address": "127.0.0.1" })
    }

    #[test]
    fn the_pair_named_by_the_transport_is_selected() {
        let stats = vec![
            json!({ "type": "codec", "id": "C1" }),
            candidate("local-candidate", "L1", "host"),
            candidate("local-candidate", "L2", "relay"),
            candidate("remote-candidate", "R1", "host"),
            candidate("remote-candidate", "R2", "relay"),
            // Nominated and succeeded, but not the one in use: the transport decides.
            json!({ "type": "candidate-pair", "id": "P1", "localCandidateId": "L1", "remoteCandidateId": "R1", "nominated": true, "state": "succeeded" }),
            json!({ "type": "candidate-pair", "id": "P2", "localCandidateId": "L2", "remoteCandidateId": "R2", "nominated": true, "state": "succeeded" }),
            json!({ "type": "transport", "id": "T1", "selectedCandidatePairId": "P2" }),
        ];
        let selected = selected_candidate_pair(&entries_from_json(&stats)).expect("a selected pair");
        assert_eq!(selected, SelectedCandidatePair { local_type: "relay".to_owned(), remote_type: "relay".to_owned() });
    }

    #[test]
    fn without_a_transport_entry_the_nominated_succeeded_pair_is_used() {
        let stats = vec![
            candidate("local-candidate", "L1", "srflx"),
            candidate("remote-candidate", "R1", "relay"),
            candidate("remote-candidate", "R2", "host"),
            json!({ "type": "candidate-pair", "id": "P0", "localCandidateId": "L1", "remoteCandidateId": "R2", "nominated": false, "state": "succeeded" }),
            json!({ "type": "candidate-pair", "id": "P1", "localCandidateId": "L1", "remoteCandidateId": "R1", "nominated": true, "state": "succeeded" }),
        ];
        let selected = selected_candidate_pair(&entries_from_json(&stats)).expect("a selected pair");
        assert_eq!((selected.local_type.as_str(), selected.remote_type.as_str()), ("srflx", "relay"));
    }

    #[test]
    fn nothing_is_selected_before_ice_succeeds_or_when_candidates_are_missing() {
        let in_progress = vec![
            candidate("local-candidate", "L1", "host"),
            candidate("remote-candidate", "R1", "host"),
            json!({ "type": "candidate-pair", "id": "P1", "localCandidateId": "L1", "remoteCandidateId": "R1", "nominated": true, "state": "in-progress" }),
            json!({ "type": "transport", "id": "T1" }),
        ];
        assert_eq!(selected_candidate_pair(&entries_from_json(&in_progress)), None);
        let dangling = vec![
            json!({ "type": "candidate-pair", "id": "P1", "localCandidateId": "L9", "remoteCandidateId": "R9" }),
            json!({ "type": "transport", "id": "T1", "selectedCandidatePairId": "P1" }),
        ];
        assert_eq!(selected_candidate_pair(&entries_from_json(&dangling)), None);
        assert_eq!(selected_candidate_pair(&entries_from_json(&[])), None);
    }
}
