//! One `getStats()` entry as the app reads it: the text, number and true/false fields of an
//! `RTCStats` dictionary, copied field by field from the browser's object by the glue
//! (`stats_sampler.rs`), so no JSON text is written or parsed for statistics.

/// One field's value (fields of other kinds are left out).
#[derive(Debug, Clone, PartialEq)]
pub enum StatsField {
    Text(String),
    Number(f64),
    Flag(bool),
}

/// One `RTCStats` dictionary.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct StatsEntry {
    fields: Vec<(String, StatsField)>,
}

impl StatsEntry {
    /// Adds a field (the browser gives each name once).
    pub fn push(&mut self, name: String, value: StatsField) {
        self.fields.push((name, value));
    }

    fn field(&self, name: &str) -> Option<&StatsField> {
        self.fields.iter().find(|(field, _)| field == name).map(|(_, value)| value)
    }

    pub fn text(&self, name: &str) -> Option<&str> {
        match self.field(name)? {
            StatsField::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn number(&self, name: &str) -> Option<f64> {
        match self.field(name)? {
            StatsField::Number(number) => Some(*number),
            _ => None,
        }
    }

    pub fn flag(&self, name: &str) -> Option<bool> {
        match self.field(name)? {
            StatsField::Flag(flag) => Some(*flag),
            _ => None,
        }
    }
}

/// Test fixtures written as JSON objects (`serde_json::json!`), as the browser's dictionaries.
#[cfg(test)]
pub fn entries_from_json(values: &[serde_json::Value]) -> Vec<StatsEntry> {
    values
        .iter()
        .map(|value| {
            let mut entry = StatsEntry::default();
            for (name, field) in value.as_object().into_iter().flatten() {
                let field = match field {
                    serde_json::Value::String(text) => StatsField::Text(text.clone()),
                    serde_json::Value::Bool(flag) => StatsField::Flag(*flag),
                    serde_json::Value::Number(number) => match number.as_f64() {
                        Some(number) => StatsField::Number(number),
                        None => continue,
                    },
                    _ => continue,
                };
                entry.push(name.clone(), field);
            }
            entry
        })
        .collect()
}
