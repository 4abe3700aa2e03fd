//! What a front end asks of its run between frames: the page's buttons and the lesson API send
//! commands, and the driver takes them all at the start of its next frame.

/// What the user (or a lesson page) asks for; the driver acts on it at its next frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Step,
    StepDiscriminator,
    StepGenerator,
    Reset,
    /// Rebuild the model from the last good checkpoint (after a divergence), settings kept.
    Restore,
    /// Interpolate between these two held-out rows.
    Pair(usize, usize),
    /// Download the run (settings, history, weights) as a file.
    Export,
    /// Fit the weight histograms' fixed ranges to the weights now.
    RescaleHistograms,
    /// Encode the drawing pad's digit again (it changed).
    EncodeDrawing,
    /// Copy the main run, its whole training state, into a new branch beside it.
    Fork,
    /// Stop and remove the branch at this place (0: the main run, whose place the next takes).
    DropBranch(usize),
    /// Make the branch at this place the main run: the controls, the link and the large views follow it.
    MakeMain(usize),
}

/// The commands waiting for the next frame, as flags rather than a list: no frame runs while the
/// tab is hidden, and clicks or a lesson page's messages must not pile up meanwhile. Asking twice
/// before a frame is asking once (the frame trains one step for any number of Step presses, as
/// it always did); of two interpolation pairs, the last one wins.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Requests {
    pub step: bool,
    pub step_discriminator: bool,
    pub step_generator: bool,
    pub reset: bool,
    pub restore: bool,
    pub export: bool,
    pub rescale_histograms: bool,
    pub encode_drawing: bool,
    pub pair: Option<(usize, usize)>,
    pub fork: bool,
    /// Of two asked before a frame, the last one wins, as for the pair.
    pub drop_branch: Option<usize>,
    pub make_main: Option<usize>,
}

impl Requests {
    pub fn ask(&mut self, command: Command) {
        match command {
            Command::Step => self.step = true,
            Command::StepDiscriminator => self.step_discriminator = true,
            Command::StepGenerator => self.step_generator = true,
            Command::Reset => self.reset = true,
            Command::Restore => self.restore = true,
            Command::Export => self.export = true,
            Command::RescaleHistograms => self.rescale_histograms = true,
            Command::EncodeDrawing => self.encode_drawing = true,
            Command::Pair(a, b) => self.pair = Some((a, b)),
            Command::Fork => self.fork = true,
            Command::DropBranch(place) => self.drop_branch = Some(place),
            Command::MakeMain(place) => self.make_main = Some(place),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A hidden tab runs no frame; a million presses or lesson messages meanwhile hold one set of
    /// flags, not a million commands, and mean what one press means.
    #[test]
    fn requests_do_not_pile_up() {
        let mut requests = Requests::default();
        for i in 0..1_000_000 {
            requests.ask(Command::Step);
            requests.ask(Command::StepDiscriminator);
            requests.ask(Command::Pair(i % 7, 3));
        }
        assert_eq!(requests, Requests { step: true, step_discriminator: true, pair: Some((999_999 % 7, 3)), ..Requests::default() });
    }
}
