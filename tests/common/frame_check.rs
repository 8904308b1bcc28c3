//! The one harness for checking which frame a request gets: given an
//! index-coded fixture and cases of (requested time, tolerances, wanted
//! frame), it runs the requests through an `ImageGenerator` and checks the
//! frame code drawn in each image, that the actual time is that frame's
//! presentation time, and that the frame is the one wanted.
//!
//! What is wanted comes from the fixture's README facts (`facts::Fixture`)
//! or from a case worked out by hand, never from the library. A check with
//! no cases, or whose cases all want `NoImageAtTime`, panics instead of
//! passing: it would prove nothing about frames.

use stills::asset::geometry::Orientation;
use stills::ImageResult;
use stills::{GeneratorSettings, PixelFormat, Time};

use super::facts::{Fixture, Frame};
use super::harness::{
    collect_stream, describe, generator, is_no_image, read_code, DEADLINE, SMALL,
};
use super::readme::fixture_path;

/// The tolerances a request is made with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tolerances {
    /// Zero before and after (`set_exact`).
    Exact,
    /// Both set explicitly.
    Window { before: Time, after: Time },
    /// Neither set: what a new generator starts with, +∞ on both sides.
    Default,
}

impl Tolerances {
    /// The window `[t − before, t + after]` as `(before, after)`.
    fn window(self) -> (Time, Time) {
        match self {
            Tolerances::Exact => (Time::ZERO, Time::ZERO),
            Tolerances::Window { before, after } => (before, after),
            Tolerances::Default => (Time::POSITIVE_INFINITY, Time::POSITIVE_INFINITY),
        }
    }
}

/// The frame a case must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Want {
    /// What SPEC "Which frame" says for the case's tolerances, by the
    /// fixture's facts: in exact mode the frame displayed at the time, in
    /// a window one of the cheapest frames displayed in it; where there is
    /// none, `NoImageAtTime`.
    Spec,
    /// As `Spec`, and also a shown sync frame nearest the time: what
    /// infinite tolerances mean, worked out without the cost model.
    NearestSync,
    /// The frame with this code, worked out by hand.
    Code(u32),
    /// `NoImageAtTime`, worked out by hand.
    NoImage,
}

/// One request and what it must get.
#[derive(Debug, Clone, Copy)]
struct Case {
    time: Time,
    tolerances: Tolerances,
    want: Want,
}

/// How the requests of a check are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Asking {
    /// The cases of each tolerance setting as one `images` batch, planned
    /// and decoded together over `workers` workers.
    Batch { workers: usize },
    /// Each case alone with `copy_image`, one after another on a generator
    /// with one worker, so each is sought and decoded from its own start.
    OneAtATime,
}

/// A fixture, how to ask it, and the cases to check.
pub struct FrameCheck {
    fixture: Fixture,
    asking: Asking,
    read_as: Orientation,
    configure: Option<fn(&mut GeneratorSettings)>,
    pixel_format: Option<PixelFormat>,
    cases: Vec<Case>,
}

impl FrameCheck {
    /// A check of fixture `name`, asked in one batch on one worker, its
    /// images read as stored (identity orientation), no cases yet.
    pub fn new(name: &str) -> FrameCheck {
        FrameCheck {
            fixture: Fixture::load(name),
            asking: Asking::Batch { workers: 1 },
            read_as: Orientation::IDENTITY,
            configure: None,
            pixel_format: None,
            cases: Vec::new(),
        }
    }

    pub fn fixture(&self) -> &Fixture {
        &self.fixture
    }

    pub fn asking(mut self, asking: Asking) -> FrameCheck {
        self.asking = asking;
        self
    }

    /// Reads the frame code from images shown with `orientation` applied.
    pub fn read_as(mut self, orientation: Orientation) -> FrameCheck {
        self.read_as = orientation;
        self
    }

    /// Settings beyond the maximum size and the tolerances, which the
    /// harness sets itself.
    pub fn configure(mut self, configure: fn(&mut GeneratorSettings)) -> FrameCheck {
        self.configure = Some(configure);
        self
    }

    /// Also wants every image in `format`.
    pub fn pixel_format(mut self, format: PixelFormat) -> FrameCheck {
        self.pixel_format = Some(format);
        self
    }

    pub fn case(mut self, time: Time, tolerances: Tolerances, want: Want) -> FrameCheck {
        self.cases.push(Case {
            time,
            tolerances,
            want,
        });
        self
    }

    /// One case per time of `times`, all with the same tolerances and want.
    pub fn cases(
        mut self,
        times: impl IntoIterator<Item = Time>,
        tolerances: Tolerances,
        want: Want,
    ) -> FrameCheck {
        self.cases.extend(times.into_iter().map(|time| Case {
            time,
            tolerances,
            want,
        }));
        self
    }

    /// Runs every case and returns a line for each that did not get what it
    /// wants.
    pub fn problems(&self) -> Vec<String> {
        let name = &self.fixture.name;
        assert!(
            !self.cases.is_empty(),
            "{name}: a frame check without cases"
        );
        assert!(
            self.cases.iter().any(|c| !self.wanted(c).is_empty()),
            "{name}: every case wants NoImageAtTime, so no frame would be checked"
        );
        let mut problems = Vec::new();
        for tolerances in self.tolerance_settings() {
            let cases: Vec<&Case> = self
                .cases
                .iter()
                .filter(|c| c.tolerances == tolerances)
                .collect();
            let workers = match self.asking {
                Asking::Batch { workers } => workers,
                Asking::OneAtATime => 1,
            };
            let generator = generator(&fixture_path(name), workers, |s| {
                s.set_maximum_size(SMALL);
                if let Some(configure) = self.configure {
                    configure(s);
                }
                match tolerances {
                    Tolerances::Exact => s.set_exact(),
                    Tolerances::Window { before, after } => {
                        s.set_tolerance_before(before).expect("a valid tolerance");
                        s.set_tolerance_after(after).expect("a valid tolerance");
                    }
                    Tolerances::Default => {}
                }
            });
            match self.asking {
                Asking::Batch { .. } => problems.extend(self.batch_problems(&generator, &cases)),
                Asking::OneAtATime => {
                    for case in cases {
                        let result = generator.copy_image(case.time);
                        problems.extend(self.mismatch(case, &result));
                    }
                }
            }
        }
        problems
    }

    /// The tolerance settings of the cases, each once, in case order.
    fn tolerance_settings(&self) -> Vec<Tolerances> {
        let mut settings = Vec::new();
        for case in &self.cases {
            if !settings.contains(&case.tolerances) {
                settings.push(case.tolerances);
            }
        }
        settings
    }

    fn batch_problems(&self, generator: &stills::ImageGenerator, cases: &[&Case]) -> Vec<String> {
        let name = &self.fixture.name;
        let times: Vec<Time> = cases.iter().map(|c| c.time).collect();
        for (i, t) in times.iter().enumerate() {
            assert!(
                !times[..i].contains(t),
                "{name}: {t:?} twice in one batch, so its results cannot be told apart"
            );
        }
        let items = collect_stream(generator.images(times.iter().copied()), DEADLINE)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let mut problems = Vec::new();
        for case in cases {
            let results: Vec<&ImageResult> = items
                .iter()
                .filter(|item| item.requested == case.time)
                .map(|item| &item.result)
                .collect();
            match results[..] {
                [result] => problems.extend(self.mismatch(case, result)),
                _ => problems.push(format!(
                    "{name} at {:?}: {} results, want 1",
                    case.time,
                    results.len()
                )),
            }
        }
        for item in &items {
            if !times.contains(&item.requested) {
                problems.push(format!(
                    "{name}: a result for {:?}, which was not asked",
                    item.requested
                ));
            }
        }
        problems
    }

    /// The frames `case` may get; empty when it must get `NoImageAtTime`.
    fn wanted(&self, case: &Case) -> Vec<Frame> {
        let fx = &self.fixture;
        let t = case.time;
        let spec = || match case.tolerances {
            Tolerances::Exact => fx.displayed_at(t).into_iter().collect(),
            window => {
                let (before, after) = window.window();
                fx.cheapest(t, before, after)
            }
        };
        match case.want {
            Want::Spec => spec(),
            Want::NearestSync => {
                let nearest = fx.nearest_sync_frames(t);
                let both: Vec<Frame> = spec().into_iter().filter(|f| nearest.contains(f)).collect();
                assert!(
                    !both.is_empty(),
                    "{} at {t:?}: no cheapest frame is a nearest sync frame; the facts disagree",
                    fx.name
                );
                both
            }
            Want::Code(code) => vec![fx
                .frame_with_code(code)
                .unwrap_or_else(|| panic!("{}: no shown frame has code {code}", fx.name))],
            Want::NoImage => Vec::new(),
        }
    }

    /// Why `result` is not what `case` wants, if it is not.
    fn mismatch(&self, case: &Case, result: &ImageResult) -> Option<String> {
        let fx = &self.fixture;
        let wanted = self.wanted(case);
        let problem = match result {
            Err(e) if is_no_image(e) => (!wanted.is_empty()).then(|| "no image".to_string()),
            Err(_) => Some("an error other than NoImageAtTime".to_string()),
            Ok((image, _)) if self.pixel_format.is_some_and(|f| image.pixel_format() != f) => {
                Some(format!("a {:?} image", image.pixel_format()))
            }
            Ok((image, actual)) => match fx.frames.iter().find(|f| fx.time(f.pts) == *actual) {
                None => Some("an actual time that is no frame's pts".to_string()),
                Some(frame) if read_code(image, self.read_as) != Ok(frame.code) => Some(format!(
                    "an image that is not frame {} of its actual time",
                    frame.code
                )),
                Some(frame) if !wanted.contains(frame) => Some(self.unwanted(case, *frame)),
                Some(_) => None,
            },
        }?;
        let want = match &wanted[..] {
            [] => "NoImageAtTime".to_string(),
            [frame] => format!("code {} at {:?}", frame.code, fx.time(frame.pts)),
            several => format!(
                "one of codes {:?}",
                several.iter().map(|f| f.code).collect::<Vec<_>>()
            ),
        };
        Some(format!(
            "{} at {:?} ({:.6} s), {:?}, {:?}: want {want}, got {problem}: {}",
            fx.name,
            case.time,
            case.time.seconds(),
            case.tolerances,
            case.want,
            describe(result, self.read_as)
        ))
    }

    /// What is wrong with getting `frame`, which `case` does not want.
    fn unwanted(&self, case: &Case, frame: Frame) -> String {
        let fx = &self.fixture;
        let (before, after) = case.tolerances.window();
        if !fx.displayed_in(frame, case.time, before, after) {
            format!("frame {}, which is not displayed in the window", frame.code)
        } else {
            let cost = fx.cost(frame);
            format!(
                "frame {} ({} packets to decode{})",
                frame.code,
                cost.packets,
                if cost.guaranteed {
                    ""
                } else {
                    ", from no sync packet"
                }
            )
        }
    }
}

/// Fails, listing the first 40, if there are problems.
#[track_caller]
pub fn assert_no_problems(problems: Vec<String>) {
    let shown: Vec<&str> = problems.iter().take(40).map(String::as_str).collect();
    assert!(
        problems.is_empty(),
        "{} wrong answers (first 40):\n{}",
        problems.len(),
        shown.join("\n")
    );
}
