//! IANA time zones through the runtime's own `Intl` (full ICU in workerd),
//! so the wasm carries no time-zone database. Every call into JavaScript
//! that can throw goes through `Reflect`, which returns the exception as an
//! error instead of trapping.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

pub struct TimeZone {
    format_to_parts: Function,
    formatter: JsValue,
}

fn get(target: &JsValue, key: &str) -> Option<JsValue> {
    Reflect::get(target, &JsValue::from_str(key)).ok()
}

impl TimeZone {
    /// The zone called `name` (`Europe/Berlin`, `UTC`), or `None` when the
    /// runtime knows no such zone.
    pub fn new(name: &str) -> Option<TimeZone> {
        if name.is_empty() || name.len() > 64 {
            return None;
        }
        let intl = get(&js_sys::global().into(), "Intl")?;
        let ctor: Function = get(&intl, "DateTimeFormat")?.dyn_into().ok()?;
        let options = Object::new();
        for (k, v) in [
            ("timeZone", name),
            ("hourCycle", "h23"),
            ("year", "numeric"),
            ("month", "numeric"),
            ("day", "numeric"),
            ("hour", "numeric"),
            ("minute", "numeric"),
            ("second", "numeric"),
        ] {
            Reflect::set(&options, &JsValue::from_str(k), &JsValue::from_str(v)).ok()?;
        }
        let args = Array::of2(&JsValue::from_str("en-US"), &options);
        // A zone the runtime does not know throws a RangeError here.
        let formatter = Reflect::construct(&ctor, &args).ok()?;
        let format_to_parts: Function = get(&formatter, "formatToParts")?.dyn_into().ok()?;
        Some(TimeZone {
            format_to_parts,
            formatter,
        })
    }

    /// The zone's offset from UTC at instant `t` (ms since the epoch, east
    /// positive), to the second.
    pub fn offset_at(&self, t: i64) -> Option<i64> {
        let date = js_sys::Date::new(&JsValue::from_f64(t as f64));
        let parts: Array = self
            .format_to_parts
            .call1(&self.formatter, &date)
            .ok()?
            .dyn_into()
            .ok()?;
        let mut f = [0i64; 6]; // year, month, day, hour, minute, second
        for part in parts.iter() {
            let kind = get(&part, "type")?.as_string()?;
            let slot = match kind.as_str() {
                "year" => 0,
                "month" => 1,
                "day" => 2,
                "hour" => 3,
                "minute" => 4,
                "second" => 5,
                _ => continue,
            };
            let value: i64 = get(&part, "value")?.as_string()?.parse().ok()?;
            if let Some(field) = f.get_mut(slot) {
                *field = value;
            }
        }
        let [year, month, day, hour, minute, second] = f;
        let days = switchboard_core::report::parse_date(&format!("{year:04}-{month:02}-{day:02}"))?;
        // Some engines write midnight as 24 even in h23.
        let wall = days * 86_400_000 + (hour % 24) * 3_600_000 + minute * 60_000 + second * 1000;
        Some(wall - (t - t.rem_euclid(1000)))
    }
}
