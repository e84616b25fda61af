"""What a measured run gives back: its JSON record (the same as `joulestream show RUN --format
json`) with attribute access to the figures people ask for, and the questions the issue names:
energy per phase, per epoch and per step range, "accuracy per kWh", "energy to reach loss X".
"""

J_PER_KWH = 3.6e6


class Part:
    """A phase, an epoch or a step range: time_s, energy_j, co2e_g, water_l and the rest of its
    record as attributes (and as the dict .record)."""

    def __init__(self, record):
        self.record = record
        for k, v in record.items():
            setattr(self, k, v)

    @property
    def kwh(self):
        return (self.record.get("energy_j") or 0.0) / J_PER_KWH

    def __repr__(self):
        name = self.record.get("path", self.record.get("epoch", ""))
        return "<%s %s: %.6g J, %.6g s>" % (type(self).__name__, name,
                                          self.record.get("energy_j") or 0.0,
                                          self.record.get("time_s") or 0.0)


class Result:
    """A run's record. `record` is the parsed JSON; the properties below read it."""

    def __init__(self, record, text=""):
        self.record = record
        self.text = text

    # the run
    @property
    def run_id(self):
        return self.record.get("id")

    @property
    def duration_s(self):
        return self.record.get("duration_s")

    @property
    def energy_j(self):
        """The run's IT energy (its share of every counted zone), joules."""
        return self.record["totals"]["energy_j"]

    @property
    def kwh(self):
        return self.energy_j / J_PER_KWH

    @property
    def co2e_g(self):
        return self.record["totals"]["co2e_g"]

    @property
    def water_l(self):
        return self.record["totals"]["water_l"]

    @property
    def estimated(self):
        return bool(self.record["totals"].get("estimate"))

    # training
    @property
    def phases(self):
        """{path: Part} for every innermost phase, "(none)" included: they add up to the run."""
        return {p["path"]: Part(p) for p in self.record.get("phases") or []}

    def phase_total(self, path):
        """A phase with everything nested in it ("train" includes "train/forward")."""
        out = {"path": path, "time_s": 0.0, "energy_j": 0.0, "co2e_g": 0.0, "water_l": 0.0}
        for p in self.record.get("phases") or []:
            if p["path"] == path or p["path"].startswith(path + "/"):
                for k in ("time_s", "energy_j", "co2e_g", "water_l"):
                    out[k] += p.get(k) or 0.0
        return Part(out)

    @property
    def epochs(self):
        return [Part(e) for e in self.record.get("epochs") or []]

    @property
    def step_ranges(self):
        steps = self.record.get("steps") or {}
        return [Part(r) for r in steps.get("ranges") or []]

    @property
    def metrics(self):
        """The metric points kept (all of them up to 1024, then evenly thinned), each
        {seq, t_s, step, epoch, energy_j, values}."""
        m = self.record.get("metrics") or {}
        return m.get("points") or []

    @property
    def tags(self):
        return dict(self.record.get("tags") or {})

    @property
    def prediction(self):
        return self.record.get("prediction")

    @property
    def notes(self):
        return list(self.record.get("notes") or [])

    def energy_to_reach(self, name, target, lower_is_better=True):
        """The run's energy (J) when metric `name` first reached target (<= target, or >= with
        lower_is_better=False); None if it never did."""
        for p in self.metrics:
            v = (p.get("values") or {}).get(name)
            if v is None:
                continue
            if (v <= target) if lower_is_better else (v >= target):
                return p["energy_j"]
        return None

    def per_kwh(self, name):
        """The last value of metric `name` per kWh of the run's energy up to when it was logged
        ("accuracy per kWh"); None without such a metric."""
        for p in reversed(self.metrics):
            v = (p.get("values") or {}).get(name)
            if v is not None and p.get("energy_j"):
                return v / (p["energy_j"] / J_PER_KWH)
        return None

    def __repr__(self):
        return "<joulestream.Result %s: %.6g J, %.6g gCO2e, %.6g L>" % (
            self.run_id, self.energy_j, self.co2e_g, self.water_l)

    def __str__(self):
        return self.text or repr(self)
