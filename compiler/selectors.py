"""Selectors → element patterns, with their specificity and the VRs they can select.

In: AST selectors. Out: `ResolvedSelector`s (patterns of plain integers and strings) or
diagnostics for unknown keywords, impossible private blocks, unknown VRs and empty patterns.
"""
from __future__ import annotations

from dataclasses import dataclass

from pydicom.datadict import tag_for_keyword

from deidc.compiler import names
from deidc.compiler.patterns import FIX_HINT
from deidc.compiler.plan import (
    AnyDepthPattern,
    ElementPattern,
    ExceptPatterns,
    MaskPattern,
    PathPattern,
    PrivatePattern,
    Specificity,
    StepPattern,
    TagPattern,
)
from deidc.diagnostics import Diagnostic, Span
from deidc.dicom import VRS, dictionary_vrs, mask_matches_dictionary
from deidc.dsl import ast


@dataclass(frozen=True)
class ResolvedSelector:
    specificity: Specificity
    text: str
    span: Span
    tags: tuple[int, ...] = ()  # exact tags (TAG) or name-pattern tags (VR_OR_NAME)
    mask: MaskPattern | None = None
    private: PrivatePattern | None = None
    vrs: frozenset[str] = frozenset()  # for VR selectors
    path: PathPattern | None = None
    # VRs the selected elements may have, for action checks; None = unknown (masks, private)
    possible_vrs: frozenset[str] | None = None


def selector_text(sel: ast.Selector) -> str:
    if isinstance(sel, ast.Keyword):
        return sel.name
    if isinstance(sel, ast.Tag):
        return f"({sel.group:04X},{sel.element:04X})"
    if isinstance(sel, ast.TagMask):
        return sel.text
    if isinstance(sel, ast.PrivateTag):
        return f'({sel.group:04X},"{sel.creator}",{sel.low_byte:02X})'
    if isinstance(sel, ast.VrSelector):
        return "vr " + ", ".join(sel.vrs)
    if isinstance(sel, ast.NamePattern):
        return f"name ~ /{sel.pattern}/{sel.flags}"
    if isinstance(sel, ast.Path):
        parts = []
        for step in sel.steps:
            if isinstance(step, ast.AnyDepth):
                parts.append("*")
            else:
                index = "" if step.item is None else f"[{step.item}]"
                parts.append(selector_text(step.element) + index)
        return "/".join(parts)
    raise TypeError(sel)


def resolve_selector(sel: ast.Selector, diagnostics: list[Diagnostic]) -> ResolvedSelector | None:
    text = selector_text(sel)
    if isinstance(sel, (ast.Keyword, ast.Tag)):
        tag = tag_of(sel, diagnostics)
        if tag is None:
            return None
        return ResolvedSelector(Specificity.TAG, text, sel.span, tags=(tag,),
                                possible_vrs=dictionary_vrs(tag) or None)
    if isinstance(sel, ast.TagMask):
        if not mask_matches_dictionary(sel.value, sel.care) and not (sel.value >> 16) & 1:
            diagnostics.append(Diagnostic(
                "warning", f"mask {sel.text} matches no attribute of the data dictionary",
                sel.span, code="DC004", hint="check the hex digits; x stands for any digit"))
        return ResolvedSelector(Specificity.MASK, text, sel.span, mask=MaskPattern(sel.value, sel.care))
    if isinstance(sel, ast.PrivateTag):
        pattern = _private(sel, diagnostics)
        if pattern is None:
            return None
        return ResolvedSelector(Specificity.PRIVATE_ELEMENT, text, sel.span, private=pattern)
    if isinstance(sel, ast.VrSelector):
        unknown = [v for v in sel.vrs if v not in VRS]
        if unknown:
            diagnostics.append(Diagnostic(
                "error", f"unknown VR {', '.join(unknown)}", sel.span, code="DC003",
                hint=names.did_you_mean(unknown[0], VRS) or "VRs are two upper-case letters such as DA, PN, UI"))
            return None
        return ResolvedSelector(Specificity.VR_OR_NAME, text, sel.span, vrs=frozenset(sel.vrs),
                                possible_vrs=frozenset(sel.vrs))
    if isinstance(sel, ast.NamePattern):
        try:
            tags = names.tags_matching_name(sel.pattern, sel.flags)
        except TimeoutError:  # backtracks without bound: a compiler that never returns otherwise
            diagnostics.append(Diagnostic(
                "error", f"/{sel.pattern}/{sel.flags} ran longer than {names.NAME_PATTERN_SECONDS:g} s over the "
                "data dictionary's keywords: it backtracks without bound", sel.span, code="DC005",
                hint=FIX_HINT))
            return None
        except Exception as err:  # regex syntax error
            diagnostics.append(Diagnostic("error", f"bad regex: {err}", sel.span, code="DC005"))
            return None
        if not tags:
            diagnostics.append(Diagnostic(
                "warning", f"no dictionary keyword matches /{sel.pattern}/", sel.span, code="DC004",
                hint="name patterns are searched in keywords such as PatientComments"))
        vrs = frozenset().union(*(dictionary_vrs(t) for t in tags)) if tags else frozenset()
        return ResolvedSelector(Specificity.VR_OR_NAME, text, sel.span, tags=tags, possible_vrs=vrs or None)
    if isinstance(sel, ast.Path):
        return _path(sel, text, diagnostics)
    raise TypeError(sel)


def tag_of(ref: ast.Keyword | ast.Tag, diagnostics: list[Diagnostic], hint: str | None = None) -> int | None:
    """The tag a keyword or `(gggg,eeee)` names; an unknown keyword is an error with a did-you-mean."""
    if isinstance(ref, ast.Tag):
        return (ref.group << 16) | ref.element
    tag = tag_for_keyword(ref.name)
    if tag is None:
        diagnostics.append(Diagnostic(
            "error", f"unknown keyword '{ref.name}'", ref.span, code="DC001",
            hint=names.keyword_suggestion(ref.name) or hint
            or "keywords are those of the DICOM data dictionary, e.g. PatientName; or write the tag as (gggg,eeee)"))
    return tag


def _private(sel: ast.PrivateTag, diagnostics: list[Diagnostic]) -> PrivatePattern | None:
    if sel.group % 2 == 0:
        diagnostics.append(Diagnostic(
            "error", f"private element in even group {sel.group:04X} can never match", sel.span,
            code="DC006", hint="private groups are odd, e.g. (0019,\"CREATOR\",10)"))
        return None
    return PrivatePattern(sel.group, sel.creator.upper(), sel.low_byte)


def element_pattern(ref: ast.ElementRef, diagnostics: list[Diagnostic]) -> ElementPattern | None:
    if isinstance(ref, (ast.Keyword, ast.Tag)):
        tag = tag_of(ref, diagnostics)
        return None if tag is None else TagPattern(tag)
    if isinstance(ref, ast.TagMask):
        return MaskPattern(ref.value, ref.care)
    return _private(ref, diagnostics)


def _path(sel: ast.Path, text: str, diagnostics: list[Diagnostic]) -> ResolvedSelector | None:
    steps: list[StepPattern | AnyDepthPattern] = []
    for step in sel.steps:
        if isinstance(step, ast.AnyDepth):
            if not (steps and isinstance(steps[-1], AnyDepthPattern)):
                steps.append(AnyDepthPattern())
            continue
        pattern = element_pattern(step.element, diagnostics)
        if pattern is None:
            return None
        steps.append(StepPattern(pattern, step.item))
    leaf = steps[-1]
    if isinstance(leaf, StepPattern) and leaf.item is not None:
        diagnostics.append(Diagnostic(
            "error", f"{text} ends in an item index, so it selects no element", sel.span, code="DC007",
            hint="name an element inside the item, e.g. Seq[0]/ReferencedSOPInstanceUID, or Seq[0]/* for all of it"))
        return None
    vrs = None
    if isinstance(leaf, StepPattern) and isinstance(leaf.element, TagPattern):
        vrs = dictionary_vrs(leaf.element.tag) or None
    return ResolvedSelector(Specificity.PATH, text, sel.span, path=PathPattern(tuple(steps)), possible_vrs=vrs)


def resolve_excepts(selectors: tuple[ast.Selector, ...], diagnostics: list[Diagnostic]) -> ExceptPatterns | None:
    if not selectors:
        return None
    tags: set[int] = set()
    masks, privates, paths = [], [], []
    vrs: set[str] = set()
    for sel in selectors:
        r = resolve_selector(sel, diagnostics)
        if r is None:
            continue
        tags.update(r.tags)
        vrs.update(r.vrs)
        if r.mask:
            masks.append(r.mask)
        if r.private:
            privates.append(r.private)
        if r.path:
            paths.append(r.path)
    return ExceptPatterns(frozenset(tags), tuple(masks), tuple(privates), frozenset(vrs), tuple(paths))
