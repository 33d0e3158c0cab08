//! The Recent list as localStorage keeps it: `[{"name":"bob","event":"outgoing","at":1733300000000}]`,
//! written and read with `protocol::json` exactly as serde wrote and read it before.

use protocol::json;

/// The stored form of one entry (`[{"name":"bob","event":"outgoing","at":1733300000000}]`).
#[derive(Debug, PartialEq, Eq)]
pub(super) struct StoredRecentCall {
    pub(super) name: String,
    pub(super) event: String,
    pub(super) at: u64,
}

impl StoredRecentCall {
    /// Reads a stored entry as serde read it before: all three fields (`null` is none), each
    /// once, with its type; other fields are skipped.
    fn read(value: &str) -> Option<StoredRecentCall> {
        let (mut name, mut event, mut at) = (None, None, None);
        for (key, value) in json::members(value).ok()?? {
            let slot_taken = match key.as_ref() {
                "name" => name.replace(json::string(value).ok()??.into_owned()).is_some(),
                "event" => event.replace(json::string(value).ok()??.into_owned()).is_some(),
                "at" => at.replace(json::unsigned(value)?).is_some(),
                _ => false,
            };
            if slot_taken {
                return None;
            }
        }
        Some(StoredRecentCall { name: name?, event: event?, at: at? })
    }

    /// The stored list: every entry read, or none at all when any is unreadable.
    pub(super) fn read_list(text: &str) -> Vec<StoredRecentCall> {
        let items = json::value(text).ok().and_then(json::items).unwrap_or_default();
        items.into_iter().map(StoredRecentCall::read).collect::<Option<Vec<_>>>().unwrap_or_default()
    }

    pub(super) fn write(&self, out: &mut String) {
        out.push_str("{\"name\":");
        json::write_string(out, &self.name);
        out.push_str(",\"event\":");
        json::write_string(out, &self.event);
        out.push_str(",\"at\":");
        out.push_str(&self.at.to_string());
        out.push('}');
    }
}
