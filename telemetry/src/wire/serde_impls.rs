//! Hand-written serde for the two scalars that take more than one JSON type: [`DeviceRef`]
//! (number or string) and [`Value`] (number, string or null). `#[serde(untagged)]` would do the
//! same, but it buffers every value and its errors say only "did not match any variant"; these
//! are on the path of every sample.

use std::fmt;

use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{DeviceRef, Value};

impl Serialize for DeviceRef {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            DeviceRef::Id(id) => serializer.serialize_i64(*id),
            DeviceRef::Name(name) => serializer.serialize_str(name),
        }
    }
}

struct DeviceRefVisitor;

impl<'de> Visitor<'de> for DeviceRefVisitor {
    type Value = DeviceRef;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a device id (integer) or name (string)")
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<DeviceRef, E> {
        Ok(DeviceRef::Id(v))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<DeviceRef, E> {
        i64::try_from(v)
            .map(DeviceRef::Id)
            .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<DeviceRef, E> {
        Ok(DeviceRef::Name(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<DeviceRef, E> {
        Ok(DeviceRef::Name(v))
    }
}

impl<'de> Deserialize<'de> for DeviceRef {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<DeviceRef, D::Error> {
        deserializer.deserialize_any(DeviceRefVisitor)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            // Whole numbers (counters) go out as JSON integers: shorter, and parsed back exactly,
            // while serde_json's default float parsing may be one ulp off for 16+ digits.
            // The bounds are ±2^63, where every whole f64 is an exact i64.
            Value::Number(v)
                if v.fract() == 0.0
                    && (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(v) =>
            {
                serializer.serialize_i64(*v as i64)
            }
            // serde_json writes a non-finite f64 as `null`, which decodes back to NaN.
            Value::Number(v) => serializer.serialize_f64(*v),
            Value::State(s) => serializer.serialize_str(s),
        }
    }
}

struct ValueVisitor;

impl<'de> Visitor<'de> for ValueVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number, a state name or null")
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        Ok(Value::Number(v))
    }

    // Counters arrive as integers. Above 2^53 an f64 rounds them to a few units, which no rate
    // computed over seconds can notice.
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v as f64))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v as f64))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::State(v.to_owned()))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::State(v))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Number(f64::NAN))
    }

    fn visit_none<E: de::Error>(self) -> Result<Value, E> {
        Ok(Value::Number(f64::NAN))
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(ValueVisitor)
    }
}
