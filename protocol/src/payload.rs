//! Opaque SDP and ICE candidate payloads, kept as the raw JSON text they arrived as.

use std::fmt;

/// The payload's text: `serde_json`'s raw value where that crate is in (the server), else the
/// text checked by [`crate::json`] (the web app).
#[cfg(feature = "serde_json")]
type RawJson = Box<serde_json::value::RawValue>;
#[cfg(not(feature = "serde_json"))]
type RawJson = Box<str>;

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
        pub struct $type_name(RawJson);

        impl $type_name {
            /// Wraps JSON text (checked to be one valid JSON value, kept byte for byte without
            /// the white space around it).
            #[cfg(feature = "serde_json")]
            pub fn from_json(json: impl Into<String>) -> Result<$type_name, InvalidPayload> {
                serde_json::value::RawValue::from_string(json.into())
                    .map($type_name)
                    .map_err(|error| InvalidPayload(error.to_string()))
            }

            /// Wraps JSON text (checked to be one valid JSON value, kept byte for byte without
            /// the white space around it).
            #[cfg(not(feature = "serde_json"))]
            pub fn from_json(json: impl Into<String>) -> Result<$type_name, InvalidPayload> {
                let json = json.into();
                let value = crate::json::value(&json).map_err(|error| InvalidPayload(error.to_string()))?;
                if value.len() == json.len() {
                    Ok($type_name(json.into_boxed_str()))
                } else {
                    Ok($type_name(value.into()))
                }
            }

            #[cfg(feature = "serde_json")]
            pub(crate) fn from_raw(raw: &serde_json::value::RawValue) -> $type_name {
                $type_name(raw.to_owned())
            }

            /// Wraps a value [`crate::json::value`] already checked.
            pub(crate) fn from_checked_json(value: &str) -> $type_name {
                #[cfg(feature = "serde_json")]
                return $type_name::from_json(value)
                    .unwrap_or_else(|error| unreachable!("checked JSON is JSON: {error}"));
                #[cfg(not(feature = "serde_json"))]
                return $type_name(value.into());
            }

            /// The JSON text exactly as received.
            pub fn as_json(&self) -> &str {
                #[cfg(feature = "serde_json")]
                return self.0.get();
                #[cfg(not(feature = "serde_json"))]
                return &self.0;
            }
        }

        impl PartialEq for $type_name {
            fn eq(&self, other: &Self) -> bool {
                self.as_json() == other.as_json()
            }
        }

        impl Eq for $type_name {}

        impl fmt::Debug for $type_name {
            // SDP bodies are long and carry addresses: debug output shows only their size.
            fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, concat!(stringify!($type_name), "(<{} bytes of JSON>)"), self.as_json().len())
            }
        }

        #[cfg(feature = "serde_json")]
        impl serde::Serialize for $type_name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
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
