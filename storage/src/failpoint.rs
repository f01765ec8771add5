//! Named points between the steps of multi-step disk operations (anticompaction, repair
//! finalize, SSTable rewrites), where crash tests take an image of the data directory.
//! In test builds a test may install a hook that runs at every point it passes; otherwise a
//! point costs nothing.

/// What a test runs at each point.
#[cfg(test)]
pub(crate) type Hook = Box<dyn FnMut(&'static str)>;

#[cfg(test)]
thread_local! {
    static HOOK: std::cell::RefCell<Option<Hook>> = const { std::cell::RefCell::new(None) };
}

/// Marks that the operation reached `step` (every earlier step is on disk).
#[inline]
pub(crate) fn hit(step: &'static str) {
    #[cfg(test)]
    HOOK.with_borrow_mut(|h| {
        if let Some(f) = h {
            f(step);
        }
    });
    let _ = step;
}

/// Installs (or with `None` removes) this thread's hook.
#[cfg(test)]
pub(crate) fn set_hook(hook: Option<Hook>) {
    HOOK.with_borrow_mut(|h| *h = hook);
}
