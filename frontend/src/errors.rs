//! The typed errors of the browser glue and the one place they become words for the person.
//!
//! Each glue module returns one of these enums instead of a `String` (`peer.rs` a [`PeerError`],
//! `media.rs` a [`MediaAccessError`] inside a [`MediaProblem`], the page settings a
//! [`SignalingUrlError`] or an [`IceTransportPolicyError`]); the reducer and the components
//! show them through the `Display` implementations below, and nowhere else are they put in words.
//! Pure code, so the wording is unit-tested natively.

use protocol::InvalidPayload;
use std::fmt;

/// Longest browser error detail shown to people (browser messages can quote SDP lines).
const MAX_ERROR_DETAIL_CHARS: usize = 120;

/// The `?ice-transport-policy=` value is neither `relay` nor `all`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceTransportPolicyError {
    /// What the page asked for, trimmed.
    pub value: String,
}

/// Why there is no usable address for the signaling server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignalingUrlError {
    /// The page runs without a browser window (nothing to read the address from).
    NoWindow,
    /// The configured address (`?signaling=` or the `<meta>`) is of no kind we can connect to;
    /// `shown` is at most 80 characters of it.
    Unusable { shown: String },
    /// The address carries user info (`wss://good@evil`), which can hide where it really leads.
    HasUserInfo { shown: String },
    /// `?signaling=` names an origin the deployment does not allow.
    OriginNotAllowed { origin: String },
}

/// Why getUserMedia gave us nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaAccessError {
    /// No browser window to ask.
    NoWindow,
    /// The browser refused; `name` is the DOMException name (`NotAllowedError`, ...).
    Refused { name: String },
}

/// Which of camera and microphone we could not get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingMedia {
    /// The microphone works, the camera does not.
    Camera,
    /// The camera works, the microphone does not.
    Microphone,
    /// Neither works.
    CameraAndMicrophone,
}

/// What is missing from our media, and why (the first getUserMedia refusal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MediaProblem {
    pub missing: MissingMedia,
    pub cause: MediaAccessError,
}

/// A WebRTC operation of the peer glue that can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerOperation {
    SetIceTransportPolicy,
    CreatePeerConnection,
    CreateRemoteStream,
    CreateOffer,
    SetLocalOffer,
    ApplyCallersOffer,
    CreateAnswer,
    SetLocalAnswer,
    ApplyAnswer,
    /// `crypto.getRandomValues` for the call's verification nonce.
    DrawVerificationNonce,
}

/// A JavaScript exception as the browser raised it: its `name`, its `message`, or else the
/// value itself when it is a string.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BrowserException {
    pub name: Option<String>,
    pub message: Option<String>,
    pub text: Option<String>,
}

/// Why a call's peer connection could not be set up or negotiated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeerError {
    /// The diagnostic `?ice-transport-policy=` setting is unusable.
    IceTransportPolicy(IceTransportPolicyError),
    /// A payload handed to the browser (the peer's SDP or candidate) is not JSON.
    PayloadNotJson,
    /// A browser WebRTC operation failed.
    Browser { operation: PeerOperation, exception: BrowserException },
    /// After setting it, the browser reports no local description.
    NoLocalDescription,
    /// The browser's local description could not be turned into JSON text.
    LocalDescriptionNotEncodable,
    /// The browser's local description is not a valid payload.
    LocalDescriptionInvalid(InvalidPayload),
}

impl fmt::Display for IceTransportPolicyError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "The setting {}=\"{}\" is neither \"relay\" nor \"all\".",
            crate::ice_diagnostics::ICE_TRANSPORT_POLICY_QUERY_PARAMETER,
            self.value
        )
    }
}

impl fmt::Display for SignalingUrlError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SignalingUrlError::NoWindow => formatter.write_str("no browser window"),
            SignalingUrlError::Unusable { shown } => write!(
                formatter,
                "The signaling address \"{shown}\" is not a ws://, wss://, http(s):// or /path address."
            ),
            SignalingUrlError::HasUserInfo { shown } => write!(
                formatter,
                "The signaling address \"{shown}\" contains a user name or password, which can hide where it \
                 really leads, so the app did not use it."
            ),
            SignalingUrlError::OriginNotAllowed { origin } => write!(
                formatter,
                "This link asks the app to connect to the signaling server at {origin}, which this site does not \
                 allow, so the app did not connect: your name and calls would have gone through that server. \
                 Open the site's address without \"?signaling=\", or ask the site to allow {origin}."
            ),
        }
    }
}

impl MediaAccessError {
    /// The DOMException name, as shown in parentheses after the explanation.
    pub fn name(&self) -> &str {
        match self {
            MediaAccessError::NoWindow => "NoWindow",
            MediaAccessError::Refused { name } => name,
        }
    }

    /// What the refusal means, in words.
    fn explanation(&self) -> &'static str {
        match self.name() {
            "NotAllowedError" | "SecurityError" | "PermissionDeniedError" => {
                "Camera and microphone access was blocked in this browser"
            }
            "NotFoundError" | "OverconstrainedError" | "DevicesNotFoundError" => "No camera or microphone was found",
            "NotReadableError" | "AbortError" | "TrackStartError" => {
                "The camera or microphone is in use by another app"
            }
            "NoWindow" | "TypeError" => {
                "This browser does not offer camera access here (the page must be served over HTTPS or from localhost)"
            }
            _ => "The camera and microphone could not be started",
        }
    }
}

impl fmt::Display for MediaAccessError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{} ({})", self.explanation(), self.name())
    }
}

impl fmt::Display for MediaProblem {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cause = &self.cause;
        match self.missing {
            MissingMedia::Camera => write!(formatter, "No camera: {cause}. Calls will be audio-only from your side."),
            MissingMedia::Microphone => {
                write!(formatter, "No microphone: {cause}. The other person will see you but not hear you.")
            }
            MissingMedia::CameraAndMicrophone => write!(
                formatter,
                "{cause}. You can still call and be called: you will see and hear the other person, they will not see or hear you."
            ),
        }
    }
}

impl fmt::Display for PeerOperation {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(match self {
            PeerOperation::SetIceTransportPolicy => "Setting the ICE transport policy",
            PeerOperation::CreatePeerConnection => "Creating the peer connection",
            PeerOperation::CreateRemoteStream => "Creating the remote stream",
            PeerOperation::CreateOffer => "Creating the offer",
            PeerOperation::SetLocalOffer => "Setting the local offer",
            PeerOperation::ApplyCallersOffer => "Applying the caller's offer",
            PeerOperation::CreateAnswer => "Creating the answer",
            PeerOperation::SetLocalAnswer => "Setting the local answer",
            PeerOperation::ApplyAnswer => "Applying the answer",
            PeerOperation::DrawVerificationNonce => "Drawing the verification code's random secret",
        })
    }
}

impl fmt::Display for BrowserException {
    /// The exception name and the first line of its message, at most
    /// [`MAX_ERROR_DETAIL_CHARS`] characters.
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        let detail = match (&self.name, &self.message) {
            (Some(name), Some(message)) => format!("{name}: {}", message.lines().next().unwrap_or_default()),
            (Some(name), None) => name.clone(),
            (None, _) => self.text.clone().unwrap_or_else(|| "unknown error".to_owned()),
        };
        if detail.chars().count() > MAX_ERROR_DETAIL_CHARS {
            let shortened: String = detail.chars().take(MAX_ERROR_DETAIL_CHARS).collect();
            write!(formatter, "{shortened}…")
        } else {
            formatter.write_str(&detail)
        }
    }
}

impl fmt::Display for PeerError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PeerError::IceTransportPolicy(error) => error.fmt(formatter),
            PeerError::PayloadNotJson => formatter.write_str("the peer sent a payload that is not JSON"),
            PeerError::Browser { operation, exception } => write!(formatter, "{operation} failed ({exception})"),
            PeerError::NoLocalDescription => formatter.write_str("the browser produced no local description"),
            PeerError::LocalDescriptionNotEncodable => {
                formatter.write_str("the local description could not be encoded")
            }
            PeerError::LocalDescriptionInvalid(error) => error.fmt(formatter),
        }
    }
}

impl std::error::Error for IceTransportPolicyError {}
impl std::error::Error for SignalingUrlError {}
impl std::error::Error for MediaAccessError {}
impl std::error::Error for MediaProblem {}
impl std::error::Error for PeerError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn exception(name: Option<&str>, message: Option<&str>, text: Option<&str>) -> BrowserException {
        BrowserException {
            name: name.map(str::to_owned),
            message: message.map(str::to_owned),
            text: text.map(str::to_owned),
        }
    }

    #[test]
    fn browser_failures_name_the_operation_and_the_first_line_of_the_message() {
        let error = PeerError::Browser {
            operation: PeerOperation::CreateOffer,
            exception: exception(Some("OperationError"), Some("no codecs\na=second line"), None),
        };
        assert_eq!(error.to_string(), "Creating the offer failed (OperationError: no codecs)");
        let error = PeerError::Browser {
            operation: PeerOperation::ApplyAnswer,
            exception: exception(Some("InvalidStateError"), None, None),
        };
        assert_eq!(error.to_string(), "Applying the answer failed (InvalidStateError)");
        let error = PeerError::Browser {
            operation: PeerOperation::CreateAnswer,
            exception: exception(None, None, Some("boom")),
        };
        assert_eq!(error.to_string(), "Creating the answer failed (boom)");
        let error =
            PeerError::Browser { operation: PeerOperation::SetLocalAnswer, exception: exception(None, None, None) };
        assert_eq!(error.to_string(), "Setting the local answer failed (unknown error)");
    }

    #[test]
    fn long_browser_details_are_cut_at_120_characters() {
        let long = "x".repeat(200);
        let words = exception(Some("OperationError"), Some(&long), None).to_string();
        assert_eq!(words.chars().count(), MAX_ERROR_DETAIL_CHARS + 1);
        assert!(words.starts_with("OperationError: xxx") && words.ends_with('…'), "{words}");
        assert_eq!(exception(None, None, Some(&"y".repeat(120))).to_string(), "y".repeat(120));
    }

    #[test]
    fn media_problems_say_what_is_missing_why_and_what_still_works() {
        let blocked = MediaAccessError::Refused { name: "NotAllowedError".to_owned() };
        let problem = MediaProblem { missing: MissingMedia::CameraAndMicrophone, cause: blocked.clone() };
        assert_eq!(
            problem.to_string(),
            "Camera and microphone access was blocked in this browser (NotAllowedError). You can still call and be called: you will see and hear the other person, they will not see or hear you."
        );
        let problem = MediaProblem { missing: MissingMedia::Camera, cause: blocked };
        assert!(problem.to_string().starts_with("No camera: Camera and microphone access was blocked"), "{problem}");
        let problem = MediaProblem { missing: MissingMedia::Microphone, cause: MediaAccessError::NoWindow };
        assert_eq!(
            problem.to_string(),
            "No microphone: This browser does not offer camera access here (the page must be served over HTTPS or from localhost) (NoWindow). The other person will see you but not hear you."
        );
        let odd = MediaAccessError::Refused { name: "WeirdError".to_owned() };
        assert_eq!(odd.to_string(), "The camera and microphone could not be started (WeirdError)");
    }

    #[test]
    fn setting_errors_quote_the_value() {
        let error = IceTransportPolicyError { value: "realy".to_owned() };
        assert_eq!(error.to_string(), "The setting ice-transport-policy=\"realy\" is neither \"relay\" nor \"all\".");
        assert_eq!(
            PeerError::IceTransportPolicy(error.clone()).to_string(),
            error.to_string(),
            "a call refused for the setting shows the setting's words"
        );
        assert_eq!(SignalingUrlError::NoWindow.to_string(), "no browser window");
    }
}
