"""A tiny state machine the callbacks share: one outer phase ("train") per batch and one inner
phase at a time inside it (forward, backward, optimizer_step), switched as hooks arrive in
whatever order a framework version calls them."""


class PhaseSwitch:
    def __init__(self, tracker, outer):
        self.tracker = tracker
        self.outer_name = outer
        self.outer = None
        self.inner = None

    def begin_outer(self):
        self.end_outer()
        self.outer = self.tracker.phase(self.outer_name)
        self.outer.__enter__()

    def switch(self, name):
        """Ends the inner phase that is open and begins `name` (None: no inner phase)."""
        if self.inner is not None:
            self.inner.__exit__(None, None, None)
            self.inner = None
        if name is not None and self.outer is not None:
            self.inner = self.tracker.phase(name)
            self.inner.__enter__()

    def end_outer(self):
        self.switch(None)
        if self.outer is not None:
            self.outer.__exit__(None, None, None)
            self.outer = None
