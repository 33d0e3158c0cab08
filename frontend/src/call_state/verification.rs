//! The current call's verification ([`CallVerification`]) and its handlers: our offer or answer
//! goes out with the commitment to our fresh nonce; the peer's offer or answer gives its
//! commitment and fingerprints; when the data channel opens we reveal our nonce (only once the
//! peer has committed); the peer's reveal is checked against its commitment and gives the code,
//! or a warning that is shown, never ignored. The cryptography is in `crate::verification`.

use super::{AppModel, CallAttempt, Effect};
use crate::peer_message::PeerMessage;
use crate::verification::{
    description_commitment, description_fingerprints, verification_code, with_commitment, Commitment, Nonce, Side,
    VerificationCode,
};
use protocol::SessionDescription;
use std::fmt;

/// Why a call could not be verified: each is shown as a warning.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationFailure {
    /// The peer's offer or answer carried no (readable) commitment.
    NoCommitment,
    /// The peer's revealed nonce does not open its commitment.
    RevealMismatch,
    /// The peer's reveal is not a nonce.
    UnreadableReveal,
    /// An SDP states no certificate fingerprint.
    NoFingerprint,
    /// The peer committed but did not reveal its nonce within [`REVEAL_DEADLINE_MILLIS`] of
    /// the data channel opening.
    NoReveal,
}

/// How long the peer has to reveal its nonce once the data channel is open.
pub const REVEAL_DEADLINE_MILLIS: u64 = 10_000;

impl fmt::Display for VerificationFailure {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            VerificationFailure::NoCommitment => {
                "This call cannot be verified: the other app sent no commitment with its offer or answer."
            }
            VerificationFailure::RevealMismatch => {
                "Verification failed: the other side's secret does not match what it promised. Someone in between may see and hear this call."
            }
            VerificationFailure::UnreadableReveal => {
                "Verification failed: the other side's secret is unreadable. Someone in between may see and hear this call."
            }
            VerificationFailure::NoFingerprint => {
                "This call cannot be verified: a connection certificate is missing from the call's set-up."
            }
            VerificationFailure::NoReveal => {
                "This call cannot be verified: the other app did not reveal its secret within 10 seconds. Someone in between may be holding it back."
            }
        })
    }
}

/// How the verification of the current call stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerificationOutcome {
    Code(VerificationCode),
    Failed(VerificationFailure),
}

/// What the current call's verification knows. Reset with every new peer connection.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CallVerification {
    our_nonce: Option<Nonce>,
    our_fingerprints: Vec<String>,
    their_fingerprints: Vec<String>,
    their_commitment: Option<Commitment>,
    /// The peer's offer or answer has been read (with or without a commitment).
    theirs_seen: bool,
    revealed: bool,
    /// When the data channel opened (the glue's clock): the peer's reveal is due within
    /// [`REVEAL_DEADLINE_MILLIS`].
    channel_opened_at: Option<u64>,
    /// The code, or why there is none; `None` while waiting.
    pub outcome: Option<VerificationOutcome>,
}

impl CallVerification {
    /// Our first offer or answer of the call: keeps `nonce` and our fingerprints, and returns
    /// the description to send, with the commitment. Later ones (a renegotiation) keep the
    /// first nonce.
    fn ours(&mut self, description: &SessionDescription, nonce: Nonce) -> SessionDescription {
        let nonce = self.our_nonce.get_or_insert(nonce);
        let commitment = Commitment::to(nonce);
        if self.our_fingerprints.is_empty() {
            self.our_fingerprints = description_fingerprints(description);
        }
        with_commitment(description, &commitment)
    }

    /// The peer's offer or answer.
    pub(super) fn theirs(&mut self, description: &SessionDescription) {
        if self.theirs_seen {
            return;
        }
        self.theirs_seen = true;
        self.their_commitment = description_commitment(description);
        self.their_fingerprints = description_fingerprints(description);
    }

    fn fail(&mut self, failure: VerificationFailure) {
        if !matches!(self.outcome, Some(VerificationOutcome::Failed(_))) {
            self.outcome = Some(VerificationOutcome::Failed(failure));
        }
    }

    /// The data channel opened: our nonce to reveal, if the peer has committed to its own.
    fn reveal(&mut self) -> Option<PeerMessage> {
        if self.revealed {
            return None;
        }
        if self.their_commitment.is_none() {
            self.fail(VerificationFailure::NoCommitment);
            return None;
        }
        let nonce = self.our_nonce.as_ref()?.to_hex();
        self.revealed = true;
        Some(PeerMessage::Reveal { nonce })
    }

    /// The peer revealed its nonce: checked, then the code. A reveal after the deadline's
    /// warning still counts (the commitment was fixed before DTLS, so lateness is no attack).
    fn their_reveal(&mut self, nonce_hex: &str) {
        if self.outcome == Some(VerificationOutcome::Failed(VerificationFailure::NoReveal)) {
            self.outcome = None;
        }
        if self.outcome.is_some() {
            return;
        }
        let Some(commitment) = self.their_commitment else {
            return self.fail(VerificationFailure::NoCommitment);
        };
        let Some(their_nonce) = Nonce::from_hex(nonce_hex) else {
            return self.fail(VerificationFailure::UnreadableReveal);
        };
        if !commitment.opens_with(&their_nonce) {
            return self.fail(VerificationFailure::RevealMismatch);
        }
        let Some(our_nonce) = &self.our_nonce else { return };
        if self.our_fingerprints.is_empty() || self.their_fingerprints.is_empty() {
            return self.fail(VerificationFailure::NoFingerprint);
        }
        let ours = Side { fingerprints: &self.our_fingerprints, nonce: our_nonce };
        let theirs = Side { fingerprints: &self.their_fingerprints, nonce: &their_nonce };
        self.outcome = Some(VerificationOutcome::Code(verification_code(&ours, &theirs)));
    }
}

impl AppModel {
    /// Our offer or answer, ready to send with our commitment.
    pub(super) fn committed_description(
        &mut self,
        description: &SessionDescription,
        nonce: Nonce,
    ) -> SessionDescription {
        self.verification.ours(description, nonce)
    }

    /// The data channel opened: reveal our nonce (or say why the call cannot be verified); the
    /// peer's reveal is now due within [`REVEAL_DEADLINE_MILLIS`].
    pub(super) fn reveal_nonce(&mut self, effects: &mut Vec<Effect>) {
        self.verification.channel_opened_at.get_or_insert(self.clock_millis);
        if let Some(reveal) = self.verification.reveal() {
            effects.push(Effect::SendPeerMessage(reveal));
        }
    }

    pub(super) fn nonce_revealed(&mut self, nonce_hex: &str) {
        self.verification.their_reveal(nonce_hex);
    }

    /// While the peer's reveal is awaited on an open data channel: the call and the time (the
    /// glue's clock) at which waiting becomes a warning. The glue keeps one timer for it.
    pub fn verification_deadline(&self) -> Option<(CallAttempt, u64)> {
        let opened_at = self.verification.channel_opened_at?;
        if self.verification.outcome.is_some() || !self.data_channel_open {
            return None;
        }
        Some((self.call.call_attempt()?, opened_at + REVEAL_DEADLINE_MILLIS))
    }

    /// The deadline's timer fired: still no reveal is a warning, never a silent wait.
    pub(super) fn verification_deadline_passed(&mut self) {
        let Some((_, deadline)) = self.verification_deadline() else { return };
        if self.clock_millis >= deadline {
            self.verification.fail(VerificationFailure::NoReveal);
        }
    }
}
