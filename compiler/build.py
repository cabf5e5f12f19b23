"""Passes that turn flattened statements into an indexed Plan.

In: `Scoped` statements from `expand`. Out: a `Plan` whose indexes (`plan.INDEXES`: by path, tag,
private element, creator, mask, VR, name, and the catch-alls) list rule ids best-first, so the
runtime's dispatch is a few dictionary look-ups. Each pass is a plain function of the shared
`Compilation`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydicom.datadict import keyword_for_tag

from deidc.compiler.actions import Parameters, check_action_vr, plan_action
from deidc.compiler.conditions import plan_condition
from deidc.compiler.detectors import known_detectors
from deidc.compiler.expand import Scoped
from deidc.compiler.file_meta import FILE_META_OWNED
from deidc.compiler.names import did_you_mean
from deidc.compiler.plan import (
    DEFAULTS,
    INDEXES,
    PRIVATE_DEFAULTS,
    UNKNOWN_DEFAULTS,
    AllTrue,
    AnyDepthPattern,
    CleanAction,
    ExceptPatterns,
    FileQuarantine,
    HeaderRegionsFillOp,
    Keyed,
    MarkerCode,
    Markers,
    OcrRedactOp,
    Origin,
    PathPattern,
    PhiCollection,
    PixelOp,
    PixelRule,
    Plan,
    PlanAction,
    PlanCondition,
    PlanRule,
    PrivatePattern,
    RedactAllTextOp,
    RegionFillOp,
    RuleIndex,
    SecretSource,
    ShiftParam,
    Specificity,
    TagPattern,
    index_contents,
)
from deidc.compiler.selectors import ResolvedSelector, resolve_excepts, resolve_selector, tag_of
from deidc.diagnostics import Diagnostic, Span
from deidc.dicom import dictionary_vrs, format_tag
from deidc.dsl import ast

# DICOM CID 7050 "De-identification Method" (PS3.16), the codes `markers` may name.
DEIDENTIFICATION_CODES = {
    113100: "Basic Application Confidentiality Profile",
    113101: "Clean Pixel Data Option",
    113102: "Clean Recognizable Visual Features Option",
    113103: "Clean Graphics Option",
    113104: "Clean Structured Content Option",
    113105: "Clean Descriptors Option",
    113106: "Retain Longitudinal Temporal Information Full Dates Option",
    113107: "Retain Longitudinal Temporal Information Modified Dates Option",
    113108: "Retain Patient Characteristics Option",
    113109: "Retain Device Identity Option",
    113110: "Retain UIDs Option",
    113111: "Retain Safe Private Option",
    113112: "Retain Institution Identity Option",
}

# PS3.15 action D: a dummy value of the right VR (chosen at run time from the element's VR).
DUMMY_VALUES = {
    "AE": "ANONYMIZED", "AS": "000Y", "CS": "ANONYMIZED", "DA": "19000101", "DS": "0",
    "DT": "19000101000000", "IS": "0", "LO": "ANONYMIZED", "LT": "ANONYMIZED", "PN": "ANONYMIZED",
    "SH": "ANONYMIZED", "ST": "ANONYMIZED", "TM": "000000", "UC": "ANONYMIZED", "UR": "",
    "UT": "ANONYMIZED", "FD": "0", "FL": "0", "SL": "0", "SS": "0", "UL": "0", "US": "0",
    "SV": "0", "UV": "0",
}


@dataclass
class Compilation:
    statements: list[Scoped]
    diagnostics: list[Diagnostic]
    plan: Plan = field(default_factory=Plan)
    params: Parameters = field(default_factory=lambda: Parameters({}, {}, {}))
    _condition_ids: dict[PlanCondition, int] = field(default_factory=dict)
    _scopes: dict[tuple[ast.Condition, ...], int | bool] = field(default_factory=dict)

    def condition_id(self, conditions: tuple[ast.Condition, ...]) -> int | None | bool:
        """Index of the conjunction in plan.conditions; None if unconditional; False if invalid.
        Each `when` scope is planned (and diagnosed) once, however many statements it holds."""
        if not conditions:
            return None
        if conditions not in self._scopes:
            planned = [plan_condition(c, self.diagnostics) for c in conditions]
            valid = [p for p in planned if p is not None]
            if len(valid) < len(planned):
                self._scopes[conditions] = False
            else:
                cond = valid[0] if len(valid) == 1 else AllTrue(tuple(valid))
                if cond not in self._condition_ids:
                    self._condition_ids[cond] = len(self.plan.conditions)
                    self.plan.conditions.append(cond)
                self._scopes[conditions] = self._condition_ids[cond]
        return self._scopes[conditions]


def origin(span: Span, selector: str = "") -> Origin:
    return Origin(span.file, span.line, span.column, selector)


def collect_parameters(c: Compilation) -> None:
    """Parameters are global; a later definition replaces an earlier one (so a user can override
    a profile's key)."""
    specs: dict[str, ast.ShiftSpec] = {}  # checked below, once all secrets are known
    for scoped in c.statements:
        st = scoped.statement
        if not isinstance(st, ast.Param):
            continue
        c.params.secrets.pop(st.name, None)
        specs.pop(st.name, None)
        c.params.others.pop(st.name, None)
        value = st.value
        if isinstance(value, ast.SecretEnv):
            c.params.secrets[st.name] = SecretSource("env", value.variable, origin(st.span, st.name))
        elif isinstance(value, ast.SecretFile):
            path = str((Path(st.span.file).parent / value.path).resolve())
            c.params.secrets[st.name] = SecretSource("file", path, origin(st.span, st.name))
        elif isinstance(value, ast.ShiftSpec):
            specs[st.name] = value
        else:
            c.params.others[st.name] = value.value
    for name, spec in specs.items():
        tag = tag_of(spec.source, c.diagnostics)
        if spec.key not in c.params.secrets:
            c.diagnostics.append(Diagnostic(
                "error", f"shift '{name}' is keyed by '{spec.key}', which is not a secret", spec.span,
                code="DC022", hint=f'add `{spec.key} = secret("DEIDC_KEY")`'))
        if spec.low > spec.high:
            c.diagnostics.append(Diagnostic("error", f"empty range {spec.low}..{spec.high}", spec.span,
                                            code="DC025", hint="write the smaller bound first"))
        if tag is None or spec.key not in c.params.secrets or spec.low > spec.high:
            continue
        c.params.shifts[name] = ShiftParam(spec.unit, spec.key, tag, spec.low, spec.high)
    c.plan.secrets = dict(c.params.secrets)
    c.plan.shifts = dict(c.params.shifts)


# The statements whose rules select no element by name: the catch-all index each one fills.
CATCH_ALLS: dict[type, RuleIndex] = {
    ast.DefaultRule: DEFAULTS, ast.PrivateDefault: PRIVATE_DEFAULTS, ast.UnknownDefault: UNKNOWN_DEFAULTS,
}


def plan_rules(c: Compilation) -> None:
    """Every rule × selector becomes one PlanRule; ids grow in source order (later = larger)."""
    for scoped in c.statements:
        st = scoped.statement
        if isinstance(st, ast.Rule):
            cond = c.condition_id(scoped.conditions)
            excepts = resolve_excepts(st.excepts, c.diagnostics)
            action = plan_action(st.action, st.span.file, c.params, c.diagnostics)
            for sel in st.selectors:
                resolved = resolve_selector(sel, c.diagnostics)
                if resolved is not None and (meta_tag := _owned_meta_tag(resolved)) is not None:
                    c.diagnostics.append(_owned_meta_error(meta_tag, sel.span))
                    continue
                if resolved is None or cond is False or action is None:
                    continue
                check_action_vr(action, st.action, resolved, c.diagnostics)
                _add_rule(c, action, resolved, cond, excepts, origin(sel.span, resolved.text))
        elif isinstance(st, ast.PrivateBlock):
            cond = c.condition_id(scoped.conditions)
            for entry in st.entries:
                pattern = PrivatePattern(None, st.creator.upper(), entry.low_byte)
                low = "*" if entry.low_byte is None else f"{entry.low_byte:02X}"
                text = f'private "{st.creator}" {low}'
                spec = Specificity.PRIVATE_BLOCK if entry.low_byte is None else Specificity.PRIVATE_ELEMENT
                resolved = ResolvedSelector(spec, text, entry.span, private=pattern)
                action = plan_action(entry.action, st.span.file, c.params, c.diagnostics)
                if action is not None and cond is not False:
                    _add_rule(c, action, resolved, cond, None, origin(entry.span, text))
        elif isinstance(st, (ast.DefaultRule, ast.PrivateDefault, ast.UnknownDefault)):  # CATCH_ALLS
            cond = c.condition_id(scoped.conditions)
            index = CATCH_ALLS[type(st)]
            action = plan_action(st.action, st.span.file, c.params, c.diagnostics)
            if action is not None and cond is not False:
                where = origin(st.span, index.selector or "")
                rule = PlanRule(len(c.plan.rules), action, index.specificity, where, cond)
                c.plan.rules.append(rule)
                index_contents(c.plan, index).append(rule.id)
        elif isinstance(st, ast.QuarantineStatement):
            cond = c.condition_id(scoped.conditions)
            if cond is not False:
                c.plan.quarantines.append(FileQuarantine(st.reason, cond, origin(st.span, "quarantine")))
        elif isinstance(st, ast.Markers):
            _add_markers(c, st)
        elif isinstance(st, ast.Collect):
            _add_collect(c, st)
        elif isinstance(st, ast.Pixels):
            _add_pixels(c, st, scoped.conditions)


# How to do what a rule on a file meta element deidc writes meant to do, where there is a way.
_OWNED_META_HINTS = {
    0x00020002: "delete the rule: MediaStorageSOPClassUID follows SOPClassUID",
    0x00020003: "delete the rule: MediaStorageSOPInstanceUID follows SOPInstanceUID (remap that, "
                "e.g. `SOPInstanceUID -> remap uid`)",
}


def _owned_meta_tag(resolved: ResolvedSelector) -> int | None:
    """The file meta element deidc writes itself that a selector names: a keyword or tag, or a
    path that can end at the top level (`*/TransferSyntaxUID`). Broad selectors name none."""
    tag: int | None
    if resolved.specificity == Specificity.TAG:
        tag = resolved.tags[0]
    elif resolved.path is not None and all(isinstance(s, AnyDepthPattern) for s in resolved.path.steps[:-1]):
        leaf = resolved.path.steps[-1]
        element = getattr(leaf, "element", None)
        tag = element.tag if isinstance(element, TagPattern) else None
    else:
        return None
    return tag if tag in FILE_META_OWNED else None


def _owned_meta_error(tag: int, span: Span) -> Diagnostic:
    keyword, why = FILE_META_OWNED[tag]
    return Diagnostic(
        "error", f"deidc writes this file-meta element itself: {keyword} {format_tag(tag)}; {why}",
        span, code="DC034",
        hint=_OWNED_META_HINTS.get(tag, "delete the rule; broad selectors (`vr UI`, masks, `default`, "
                                        "`unknown *`) leave this element alone too"))


def _has_item_index(path: PathPattern) -> bool:
    return any(getattr(step, "item", None) is not None for step in path.steps)


def _add_rule(c: Compilation, action: PlanAction, resolved: ResolvedSelector, cond: int | None,
              excepts: ExceptPatterns | None, where: Origin) -> None:
    rule = PlanRule(len(c.plan.rules), action, resolved.specificity, where, cond, excepts, resolved.path)
    c.plan.rules.append(rule)
    p = c.plan
    if excepts is not None:  # an except by item index makes dispatch depend on the index too
        p.indexed_paths |= any(_has_item_index(path) for path in excepts.paths)
    if resolved.path is not None:
        p.indexed_paths |= _has_item_index(resolved.path)
    index, keys = _filed_under(resolved)
    contents = index_contents(p, index)
    for key in keys:
        if index.keyed is Keyed.MASK:
            contents.append((*key, rule.id))
        elif isinstance(contents, dict):
            contents.setdefault(key, []).append(rule.id)
        else:
            contents.append(rule.id)


# The index of a rule with a selector, by the selector's specificity and what it is keyed by.
_SELECTOR_INDEXES: dict[tuple[Specificity, Keyed], RuleIndex] = {
    (index.specificity, index.keyed): index for index in INDEXES if index.keyed is not Keyed.NOTHING}


def _filed_under(resolved: ResolvedSelector) -> tuple[RuleIndex, list[Any]]:
    """The index a selector's rule goes in, and the keys it is filed under there (shaped as the
    index's `keyed` says, see plan.Keyed)."""
    private, mask = resolved.private, resolved.mask
    keyed: Keyed
    keys: list[Any]
    if resolved.path is not None:
        keyed, keys = Keyed.PATH, [None]
    elif private is not None and private.low_byte is not None:
        keyed, keys = Keyed.PRIVATE_ELEMENT, [(private.group, private.creator, private.low_byte)]
    elif private is not None:
        keyed, keys = Keyed.CREATOR, [private.creator]
    elif mask is not None:
        keyed, keys = Keyed.MASK, [(mask.value, mask.care)]
    elif resolved.vrs:
        keyed, keys = Keyed.VR, sorted(resolved.vrs)
    else:  # a keyword or tag (one tag), or a name pattern (the tags it finds)
        keyed, keys = Keyed.TAG, list(resolved.tags)
    return _SELECTOR_INDEXES[resolved.specificity, keyed], keys


PHONE_KEYWORDS = frozenset({"PatientTelephoneNumbers", "ReferringPhysicianTelephoneNumbers",
                            "PersonTelephoneNumbers", "TelephoneNumberTrial"})
PLACE_KEYWORDS = frozenset({"InstitutionName", "InstitutionAddress", "InstitutionalDepartmentName",
                            "PatientAddress", "ReferringPhysicianAddress", "PersonAddress", "StationName",
                            "RegionOfResidence", "CountryOfResidence", "MilitaryRank", "BranchOfService"})


def phi_kind(tag: int) -> str:
    """How a collected attribute's value shows up in free text: name, date, phone, place or id."""
    keyword = keyword_for_tag(tag)
    vrs = dictionary_vrs(tag)
    if "PN" in vrs:
        return "name"
    if vrs & {"DA", "DT"}:
        return "date"
    if "TM" in vrs:
        return "time"
    if keyword in PHONE_KEYWORDS:
        return "phone"
    if keyword in PLACE_KEYWORDS:
        return "place"
    return "id"


def _add_collect(c: Compilation, st: ast.Collect) -> None:
    existing = c.plan.collects.get(st.name)
    tags = dict(existing.tags) if existing else {}
    for sel in st.selectors:
        resolved = resolve_selector(sel, c.diagnostics)
        if resolved is None:
            continue
        if not resolved.tags or resolved.path is not None:
            c.diagnostics.append(Diagnostic(
                "error", f"collect takes attributes by keyword, tag or name pattern, not {resolved.text}",
                sel.span, code="DC031", hint="name the attributes whose values are PHI, e.g. PatientName"))
            continue
        for tag in resolved.tags:
            tags[tag] = phi_kind(tag)
    c.plan.collects[st.name] = PhiCollection(st.name, tags, origin(st.span, st.name))


def _add_pixels(c: Compilation, st: ast.Pixels, conditions: tuple[ast.Condition, ...]) -> None:
    cond = c.condition_id(conditions + ((st.condition,) if st.condition is not None else ()))
    if cond is False:
        return
    ops: list[PixelOp] = []
    lossy: int | None = None
    for op in st.statements:
        if isinstance(op, ast.AllowLossy):
            if not 50 <= op.quality <= 100:
                c.diagnostics.append(Diagnostic("error", f"JPEG quality {op.quality} is outside 50..100", op.span,
                                                code="DC033", hint="high quality keeps the image usable, e.g. 95"))
            lossy = op.quality
        elif isinstance(op, ast.OcrRedact):
            known = known_detectors(op.detectors, op.span, c.diagnostics)
            ops.append(OcrRedactOp(op.phi, op.fuzzy if op.fuzzy is not None else 85, known))
            if op.phi not in c.plan.collects and not any(
                    isinstance(s.statement, ast.Collect) and s.statement.name == op.phi for s in c.statements):
                c.diagnostics.append(Diagnostic(
                    "error", f"no PHI set named '{op.phi}'", op.span, code="DC032",
                    hint=did_you_mean(op.phi, c.plan.collects) or f"collect it, e.g. `collect PatientName, PatientID as {op.phi}`"))
        elif isinstance(op, ast.RegionFill):
            ops.append(RegionFillOp(op.box, op.value))
        elif isinstance(op, ast.RedactAllText):
            ops.append(RedactAllTextOp(op.box))
        else:
            ops.append(HeaderRegionsFillOp(op.value))
    c.plan.pixels.append(PixelRule(cond, tuple(ops), origin(st.span, "pixels"), lossy))


def check_phi_sets(c: Compilation) -> None:
    """Every `clean NAME` needs a `collect ... as NAME` somewhere in the rules."""
    reported: set[str] = set()
    for rule in c.plan.rules:
        action = rule.action
        if isinstance(action, CleanAction) and action.phi not in c.plan.collects and action.phi not in reported:
            reported.add(action.phi)
            span = Span(rule.origin.file, rule.origin.line, rule.origin.column, rule.origin.line, rule.origin.column + 1)
            c.diagnostics.append(Diagnostic(
                "error", f"no PHI set named '{action.phi}'", span, code="DC032",
                hint=did_you_mean(action.phi, c.plan.collects) or f"collect it first, e.g. `collect PatientName, PatientID as {action.phi}`"))


def _add_markers(c: Compilation, st: ast.Markers) -> None:
    if st.method and len(st.method) > 64:
        c.diagnostics.append(Diagnostic(
            "error", f"the method text has {len(st.method)} characters; DeidentificationMethod (LO) holds 64",
            st.span, code="DC027", hint="shorten it; the code sequence carries the details"))
    codes = list(c.plan.markers.codes) if c.plan.markers else []
    for code in st.codes:
        if code not in DEIDENTIFICATION_CODES:
            c.diagnostics.append(Diagnostic(
                "error", f"{code} is not a de-identification method code (CID 7050)", st.span,
                code="DC026", hint="codes are 113100 (Basic Profile) to 113112"))
            continue
        marker = MarkerCode(str(code), DEIDENTIFICATION_CODES[code])
        if marker not in codes:
            codes.append(marker)
    method = st.method or (c.plan.markers.method if c.plan.markers else "deidc")
    c.plan.markers = Markers(method, tuple(codes))


def order_indexes(c: Compilation) -> None:
    """Sort every index best-first: within one specificity the later rule (larger id) wins."""
    for index in INDEXES:
        contents = index_contents(c.plan, index)
        if index.keyed is Keyed.MASK:
            contents.sort(key=lambda m: -m[2])
        elif isinstance(contents, dict):
            for key in contents:
                contents[key] = sorted(contents[key], reverse=True)
        else:
            contents.sort(reverse=True)
    c.plan.dummy_values = dict(DUMMY_VALUES)


PASSES = (collect_parameters, plan_rules, check_phi_sets, order_indexes)
