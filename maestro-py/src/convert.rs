//! Plain Python values in and out: JSON-like values, resources, changes, run reports.
//! Top-level timestamps become timezone-aware `datetime`s; nested payloads stay JSON values.

use chrono::{DateTime, FixedOffset, Utc};
use maestro_core::repository::{Change, DeadLetter, SinkStatus};
use maestro_core::{Kind, Resource, ResourceKey, RunReport};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyDateTime, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use serde::Serialize;
use serde_json::{Map, Number, Value};

/// A JSON value as a Python object (`dict`, `list`, `str`, `int`, `float`, `bool`, `None`).
pub fn to_py<'py>(py: Python<'py>, v: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match v {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => PyBool::new(py, *b).to_owned().into_any(),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                i.into_pyobject(py)?.into_any()
            } else if let Some(u) = n.as_u64() {
                u.into_pyobject(py)?.into_any()
            } else {
                n.as_f64().unwrap_or(f64::NAN).into_pyobject(py)?.into_any()
            }
        }
        Value::String(s) => PyString::new(py, s).into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for x in items {
                list.append(to_py(py, x)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => map_to_py(py, map)?.into_any(),
    })
}

/// A JSON object as a `dict`.
pub fn map_to_py<'py>(py: Python<'py>, map: &Map<String, Value>) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, x) in map {
        d.set_item(k, to_py(py, x)?)?;
    }
    Ok(d)
}

/// Any `Serialize` value as a Python object.
pub fn ser_to_py<'py>(py: Python<'py>, v: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    let value = serde_json::to_value(v).map_err(|e| PyValueError::new_err(e.to_string()))?;
    to_py(py, &value)
}

/// A Python object as a JSON value. `path` names the argument in error messages.
///
/// Accepts `None`, `bool`, `int`, `float`, `str`, `dict` (string keys), `list`, `tuple`,
/// timezone-aware `datetime` (as RFC 3339) and `os.PathLike` (as its path string).
pub fn from_py(obj: &Bound<'_, PyAny>, path: &str) -> PyResult<Value> {
    if obj.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = obj.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if obj.is_instance_of::<PyInt>() {
        if let Ok(i) = obj.extract::<i64>() {
            return Ok(Value::from(i));
        }
        if let Ok(u) = obj.extract::<u64>() {
            return Ok(Value::from(u));
        }
        return Err(PyValueError::new_err(format!("{path}: integer out of the 64-bit range")));
    }
    if obj.is_instance_of::<PyFloat>() {
        let f: f64 = obj.extract()?;
        return Number::from_f64(f)
            .map(Value::Number)
            .ok_or_else(|| PyValueError::new_err(format!("{path}: {f} is not a finite number")));
    }
    if let Ok(s) = obj.cast::<PyString>() {
        return Ok(Value::String(s.to_cow()?.into_owned()));
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in d.iter() {
            let Ok(key) = k.cast::<PyString>() else {
                return Err(PyTypeError::new_err(format!("{path}: dict keys must be strings, got {}", k.repr()?)));
            };
            let key = key.to_cow()?.into_owned();
            let child = if path.is_empty() { key.clone() } else { format!("{path}.{key}") };
            map.insert(key, from_py(&v, &child)?);
        }
        return Ok(Value::Object(map));
    }
    if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        let mut items = Vec::new();
        for (i, v) in obj.try_iter()?.enumerate() {
            items.push(from_py(&v?, &format!("{path}[{i}]"))?);
        }
        return Ok(Value::Array(items));
    }
    if obj.is_instance_of::<PyDateTime>() {
        return Ok(Value::String(datetime_from_py(obj, path)?.to_rfc3339()));
    }
    if obj.hasattr("__fspath__")? {
        let p = obj.call_method0("__fspath__")?;
        return from_py(&p, path);
    }
    Err(PyTypeError::new_err(format!("{path}: cannot convert a value of type `{}` to JSON", obj.get_type().name()?)))
}

/// A timezone-aware `datetime` as UTC.
pub fn datetime_from_py(obj: &Bound<'_, PyAny>, what: &str) -> PyResult<DateTime<Utc>> {
    if !obj.is_instance_of::<PyDateTime>() {
        return Err(PyTypeError::new_err(format!("{what}: expected a datetime, got `{}`", obj.get_type().name()?)));
    }
    let dt: DateTime<FixedOffset> = obj.extract().map_err(|_| {
        PyValueError::new_err(format!(
            "{what}: expected a timezone-aware datetime (e.g. datetime.now(timezone.utc)), got a naive one"
        ))
    })?;
    Ok(dt.with_timezone(&Utc))
}

/// A resource key from a `dict` with `tenant`, `connection`, `kind`, `native_id` (a resource
/// dict works too) or a `"tenant/connection/kind/native_id"` string.
pub fn key_from_py(obj: &Bound<'_, PyAny>) -> PyResult<ResourceKey> {
    if let Ok(s) = obj.cast::<PyString>() {
        let s = s.to_cow()?;
        let mut parts = s.splitn(4, '/');
        return match (parts.next(), parts.next(), parts.next(), parts.next()) {
            (Some(t), Some(c), Some(k), Some(id))
                if !t.is_empty() && !c.is_empty() && !k.is_empty() && !id.is_empty() =>
            {
                Ok(ResourceKey::new(t, c, Kind::new(k), id))
            }
            _ => Err(PyValueError::new_err(format!("key `{s}`: expected `tenant/connection/kind/native_id`"))),
        };
    }
    if let Ok(d) = obj.cast::<PyDict>() {
        let field = |name: &str| -> PyResult<String> {
            match d.get_item(name)? {
                Some(v) => {
                    v.extract::<String>().map_err(|_| PyTypeError::new_err(format!("key.{name}: must be a string")))
                }
                None => Err(PyValueError::new_err(format!(
                    "key.{name}: missing (a key needs tenant, connection, kind and native_id)"
                ))),
            }
        };
        return Ok(ResourceKey::new(
            field("tenant")?,
            field("connection")?,
            Kind::new(field("kind")?),
            field("native_id")?,
        ));
    }
    Err(PyTypeError::new_err(format!(
        "key: expected a dict or a `tenant/connection/kind/native_id` string, got `{}`",
        obj.get_type().name()?
    )))
}

/// A stored resource as a flat `dict`.
pub fn resource_to_py<'py>(py: Python<'py>, r: &Resource) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("key", r.key.to_string())?;
    d.set_item("tenant", &r.key.tenant)?;
    d.set_item("connection", &r.key.connection)?;
    d.set_item("kind", r.key.kind.as_str())?;
    d.set_item("native_id", &r.key.native_id)?;
    d.set_item("name", &r.doc.name)?;
    d.set_item("scope", &r.scope)?;
    d.set_item("active", r.active)?;
    d.set_item("attributes", map_to_py(py, &r.doc.attributes)?)?;
    let relations = PyList::empty(py);
    for rel in &r.doc.relations {
        let x = PyDict::new(py);
        x.set_item("rel", &rel.rel)?;
        x.set_item("kind", rel.kind.as_str())?;
        x.set_item("native_id", &rel.native_id)?;
        relations.append(x)?;
    }
    d.set_item("relations", relations)?;
    let tags = PyDict::new(py);
    for (k, v) in &r.doc.tags {
        tags.set_item(k, v)?;
    }
    d.set_item("tags", tags)?;
    d.set_item("user_fields", map_to_py(py, &r.user_fields)?)?;
    d.set_item("checksum", r.checksum.to_hex())?;
    d.set_item("first_seen", r.first_seen)?;
    d.set_item("last_seen", r.last_seen)?;
    d.set_item("missing_since", r.missing_since)?;
    d.set_item("missed_runs", r.missed_runs)?;
    d.set_item("updated_at", r.updated_at)?;
    d.set_item("version", r.version)?;
    Ok(d)
}

/// One change of a resource's history.
pub fn change_to_py<'py>(py: Python<'py>, c: &Change) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("seq", c.seq)?;
    d.set_item("key", c.key.to_string())?;
    d.set_item("op", c.op.as_str())?;
    d.set_item("at", c.at)?;
    d.set_item("run_id", c.run_id.map(|u| u.to_string()))?;
    d.set_item("version", c.version)?;
    d.set_item("diff", ser_to_py(py, &c.diff)?)?;
    Ok(d)
}

/// A run report (`started_at` and `finished_at` as datetimes).
pub fn run_report_to_py<'py>(py: Python<'py>, r: &RunReport) -> PyResult<Bound<'py, PyDict>> {
    let d = ser_to_py(py, r)?.cast_into::<PyDict>()?;
    d.set_item("started_at", r.started_at)?;
    d.set_item("finished_at", r.finished_at)?;
    Ok(d)
}

/// One sink's outbox status.
pub fn sink_status_to_py<'py>(py: Python<'py>, s: &SinkStatus) -> PyResult<Bound<'py, PyDict>> {
    Ok(ser_to_py(py, s)?.cast_into::<PyDict>()?)
}

/// A dead letter (`dead_at` as a datetime).
pub fn dead_letter_to_py<'py>(py: Python<'py>, d: &DeadLetter) -> PyResult<Bound<'py, PyDict>> {
    let out = ser_to_py(py, d)?.cast_into::<PyDict>()?;
    out.set_item("dead_at", d.dead_at)?;
    Ok(out)
}
