//! Helpers for the crate's unit tests.

/// Runs a CPU-engine future to its end: the CPU engine never awaits anything pending, so polling
/// once finishes its calls.
pub(crate) fn block_on<F: std::future::Future>(future: F) -> F::Output {
    let mut future = std::pin::pin!(future);
    match future.as_mut().poll(&mut std::task::Context::from_waker(std::task::Waker::noop())) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("a CPU engine call was pending"),
    }
}
