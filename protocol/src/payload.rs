//! Opaque SDP and ICE candidate payloads, kept as the raw JSON text they arrived as.

use serde::{Serialize, Serializer};
use serde_json::value::RawValue;
use std::fmt;

/// The payload was not a single valid JSON value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidPayload(pub String);

impl fmt::Display for InvalidPayload {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "not a valid JSON value: {}", self.0)
    }
}

impl std::error::Error for InvalidPayload {}

macro_rules! opaque_json_payload {
    ($(#[$doc:meta])* $type_name:ident) => {
        $(#[$doc])*
        #[derive(Clone)]
        pub struct $type_name(Box<RawValue>);

        impl $type_name {
            /// Wraps JSON text (checked to be one valid JSON value, kept byte for byte).
            pub fn from_json(json: impl Into<String>) -> Result<$type_name, InvalidPayload> {
                RawValue::from_string(json.into())
                    .map($type_name)
                    .map_err(|error| InvalidPayload(error.to_string()))
            }

            pub(crate) fn from_raw(raw: &RawValue) -> $type_name {
                $type_name(raw.to_owned())
            }

            /// The JSON text exactly as received.
            pub fn as_json(&self) -> &str {
                self.0.get()
            }
        }

        impl PartialEq for $type_name {
            fn eq(&self, other: &Self) -> bool {
                self.0.get() == other.0.get()
            }
        }

        impl Eq for $type_name {}

        impl fmt::Debug for $type_name {
            // SDP bodies are long and carry addresses: debug output shows only their size.
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, concat!(stringify!($type_name), "(<{} bytes of JSON>)"), self.0.get().len())
            }
        }

        impl Serialize for $type_name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                self.0.serialize(serializer)
            }
        }
    };
}

opaque_json_payload!(
    /// An `RTCSessionDescriptionInit` (`{"type":"offer","sdp":"v=0..."}`) as opaque JSON.
    SessionDescription
);

opaque_json_payload!(
    /// An `RTCIceCandidateInit` (`{"candidate":"candidate:...","sdpMid":"0","sdpMLineIndex":0}`)
    /// as opaque JSON; `null` (end of candidates) is carried too.
    IceCandidate
);
