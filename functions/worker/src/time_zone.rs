//! IANA time zones through the runtime's own `Intl` (full ICU in workerd),
//! so the wasm carries no time-zone database. Every call into JavaScript
//! that can throw goes through `Reflect`, which returns the exception as an
//! error instead of trapping.

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

pub struct TimeZone {
    format: Function,
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
        // `format` is a bound getter: read once, call with any receiver.
        let format: Function = get(&formatter, "format")?.dyn_into().ok()?;
        let zone = TimeZone { format, formatter };
        zone.offset_at(0).map(|_| zone)
    }

    /// The zone's offset from UTC at instant `t` (ms since the epoch, east
    /// positive), to the second.
    pub fn offset_at(&self, t: i64) -> Option<i64> {
        let date = js_sys::Date::new(&JsValue::from_f64(t as f64));
        // en-US, numeric, h23: "12/1/2026, 21:05:09" — one call, one string.
        let text = self
            .format
            .call1(&self.formatter, &date)
            .ok()?
            .as_string()?;
        let wall = parse_en_us(&text)?;
        Some(wall - (t - t.rem_euclid(1000)))
    }
}

/// "M/D/YYYY, HH:MM:SS" → wall-clock ms since the epoch.
fn parse_en_us(text: &str) -> Option<i64> {
    let (date, time) = text.split_once(", ")?;
    let mut d = date.split('/');
    let (month, day, year) = (d.next()?, d.next()?, d.next()?);
    let mut t = time.split(':');
    let (h, m, s) = (t.next()?, t.next()?, t.next()?);
    let num = |x: &str| x.trim().parse::<i64>().ok();
    let days = switchboard_core::report::parse_date(&format!(
        "{:04}-{:02}-{:02}",
        num(year)?,
        num(month)?,
        num(day)?
    ))?;
    // Some engines write midnight as 24 even in h23.
    Some(days * 86_400_000 + (num(h)? % 24) * 3_600_000 + num(m)? * 60_000 + num(s)? * 1000)
}
