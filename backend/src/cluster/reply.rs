//! Reading the replies of the cluster scripts: arrays of strings, integers and `false` (nil).

use super::{parse_node, ClusterError};
use crate::address::ConnectionRef;
use crate::directory::{CallPhase, EndedCall, Identity};
use protocol::UserName;
use redis::Value;

/// The elements of an array reply.
pub(crate) fn array(value: &Value) -> Result<&[Value], ClusterError> {
    match value {
        Value::Array(items) => Ok(items),
        other => Err(ClusterError::Corrupt(format!("expected an array, got {other:?}"))),
    }
}

/// A string (or integer) reply as text; `None` for nil.
pub(crate) fn text(value: &Value) -> Result<Option<String>, ClusterError> {
    match value {
        Value::Nil => Ok(None),
        Value::BulkString(bytes) => {
            String::from_utf8(bytes.clone()).map(Some).map_err(|_| ClusterError::Corrupt("non-UTF-8 text".into()))
        }
        Value::SimpleString(text) => Ok(Some(text.clone())),
        Value::Int(number) => Ok(Some(number.to_string())),
        other => Err(ClusterError::Corrupt(format!("expected text, got {other:?}"))),
    }
}

/// Element `index` of `items`, nil when the array is shorter.
pub(crate) fn at(items: &[Value], index: usize) -> &Value {
    items.get(index).unwrap_or(&Value::Nil)
}

/// Element `index` of `items` as text that must be there.
pub(crate) fn required(items: &[Value], index: usize) -> Result<String, ClusterError> {
    items
        .get(index)
        .map(text)
        .transpose()?
        .flatten()
        .ok_or_else(|| ClusterError::Corrupt(format!("element {index} missing in {items:?}")))
}

/// A connection from its node and connection-id elements; `None` when both are nil.
pub(crate) fn connection(node: &Value, conn: &Value) -> Result<Option<ConnectionRef>, ClusterError> {
    let (Some(node), Some(conn)) = (text(node)?, text(conn)?) else { return Ok(None) };
    let connection = conn.parse().map_err(|_| ClusterError::Corrupt(format!("connection id {conn:?}")))?;
    Ok(Some(ConnectionRef { node: parse_node(&node)?, connection }))
}

/// The phase as the scripts store it.
pub(crate) fn phase(text: &str) -> Result<CallPhase, ClusterError> {
    match text {
        "ringing" => Ok(CallPhase::Ringing),
        "connected" => Ok(CallPhase::Connected),
        "resuming" => Ok(CallPhase::Resuming),
        other => Err(ClusterError::Corrupt(format!("call phase {other:?}"))),
    }
}

/// The result of the Lua `end_call`: `None` for nil.
pub(crate) fn ended_call(value: &Value) -> Result<Option<EndedCall>, ClusterError> {
    if matches!(value, Value::Nil) {
        return Ok(None);
    }
    let items = array(value)?;
    let peer = Identity::new(UserName::from_wire(required(items, 0)?));
    let phase = phase(&required(items, 1)?)?;
    let peer_connection = connection(at(items, 2), at(items, 3))?;
    let peer_name_freed = text(at(items, 4))?.is_some();
    Ok(Some(EndedCall { peer, peer_connection, phase, peer_name_freed }))
}
