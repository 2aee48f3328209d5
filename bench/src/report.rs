//! Percentiles and the side-by-side table.

/// The `p`th percentile (0–100) of `values` (sorted in place), nearest rank.
pub fn percentile(values: &mut [u64], p: f64) -> Option<u64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let rank = ((p / 100.0) * values.len() as f64).ceil() as usize;
    values.get(rank.clamp(1, values.len()) - 1).copied()
}

/// p50, p99 and max of microsecond samples, in milliseconds.
pub struct Spread {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Spread {
    pub fn of(mut micros: Vec<u64>) -> Option<Spread> {
        let p50 = percentile(&mut micros, 50.0)?;
        let p99 = percentile(&mut micros, 99.0)?;
        let max = micros.iter().copied().max()?;
        Some(Spread {
            p50: p50 as f64 / 1000.0,
            p99: p99 as f64 / 1000.0,
            max: max as f64 / 1000.0,
        })
    }
}

pub struct Row {
    pub scenario: String,
    pub metric: String,
    pub switchboard: Option<f64>,
    pub floor: Option<f64>,
    pub note: String,
}

#[derive(Default)]
pub struct Report {
    pub rows: Vec<Row>,
}

fn fmt(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(x) if x.abs() >= 1000.0 => format!("{x:.0}"),
        Some(x) if x.abs() >= 100.0 => format!("{x:.1}"),
        Some(x) => format!("{x:.2}"),
    }
}

impl Report {
    pub fn add(&mut self, scenario: &str, metric: &str, sb: Option<f64>, floor: Option<f64>) {
        self.add_note(scenario, metric, sb, floor, "");
    }

    pub fn add_note(
        &mut self,
        scenario: &str,
        metric: &str,
        sb: Option<f64>,
        floor: Option<f64>,
        note: &str,
    ) {
        let row = Row {
            scenario: scenario.into(),
            metric: metric.into(),
            switchboard: sb,
            floor,
            note: note.into(),
        };
        println!("  {}", line(&row));
        self.rows.push(row);
    }

    pub fn print(&self) {
        println!();
        println!(
            "{:<34} {:<26} {:>12} {:>10} {:>7}  note",
            "scenario", "metric", "switchboard", "floor", "ratio"
        );
        for r in &self.rows {
            println!("{}", line(r));
        }
    }

    pub fn markdown(&self) {
        println!();
        println!("| scenario | metric | Switchboard | floor | ratio | note |");
        println!("| --- | --- | ---: | ---: | ---: | --- |");
        for r in &self.rows {
            println!(
                "| {} | {} | {} | {} | {} | {} |",
                r.scenario,
                r.metric,
                fmt(r.switchboard),
                fmt(r.floor),
                ratio(r),
                r.note
            );
        }
    }
}

fn ratio(r: &Row) -> String {
    match (r.switchboard, r.floor) {
        (Some(a), Some(b)) if b != 0.0 => format!("{:.2}", a / b),
        _ => "-".into(),
    }
}

fn line(r: &Row) -> String {
    format!(
        "{:<34} {:<26} {:>12} {:>10} {:>7}  {}",
        r.scenario,
        r.metric,
        fmt(r.switchboard),
        fmt(r.floor),
        ratio(r),
        r.note
    )
}
