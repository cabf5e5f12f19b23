"""runtime/interpret/visit.py: the one traversal the walk, `explain` and `collect` share.

A visitor that records every hook call is run over a small dataset built here, under rules
compiled from text: the order of the calls, the rule each element gets, the sequences entered
(none, `keep`, `clean`: yes; `remove`: no), the free text a sequence's `clean` reaches, and
private creators followed by their blocks. `OriginalValuesVisitor` (for `collect`) enters every
sequence but those it reads.
"""
from __future__ import annotations

from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence

from deidc.compiler.dispatch import Dispatcher
from deidc.runtime.interpret.conditions import evaluate_all
from deidc.runtime.interpret.visit import ElementVisitor, OriginalValuesVisitor
from deidc.runtime.interpret.walk import format_path

RULES = """\
    collect PatientName as phi
    PatientName -> replace "ANON"
    OtherPatientIDsSequence -> remove
    RequestAttributesSequence -> clean phi
    RequestedProcedureID -> remove
    private "ACME" {
      * -> remove
    }
    default -> keep
"""


def item(**values) -> Dataset:
    ds = Dataset()
    for keyword, value in values.items():
        setattr(ds, keyword, value)
    return ds


def dataset() -> Dataset:
    """Built in tag order, as a file is read (a dataset's elements are visited in its own order)."""
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = "1.2.840.10008.1.2.1"  # deidc writes it: no rule
    ds.file_meta.SourceApplicationEntityTitle = "SCANNER1"
    ds.add_new(0x00080000, "UL", 42)  # a group length
    ds.ReferencedStudySequence = Sequence([item(ReferencedSOPInstanceUID="1.2.3")])
    ds.private_block(0x0009, "ACME", create=True).add_new(0x01, "LO", "ACME secret")
    ds.PatientName = "DOE^JANE"
    ds.OtherPatientIDsSequence = Sequence([item(PatientID="OTHER1")])
    ds.private_block(0x0011, "OTHER", create=True).add_new(0x01, "LO", "kept")
    ds.RequestAttributesSequence = Sequence([item(
        RequestedProcedureDescription="DOE follow-up",
        ScheduledProtocolCodeSequence=Sequence([item(CodeValue="P1", CodeMeaning="DOE protocol")]),
        RequestedProcedureID="RP1")])
    return ds


class Recorder(ElementVisitor):
    """Every hook call as (hook, path, extra); `delete` makes `element` act like the walk's remove."""

    def __init__(self, plan, ds, delete: bool = False):
        super().__init__(Dispatcher(plan), evaluate_all(plan.conditions, ds))
        self.calls: list[tuple[str, str, object]] = []
        self.delete = delete

    def owned_meta(self, meta, tag):
        self.calls.append(("owned_meta", format_path((), tag), None))

    def meta_element(self, meta, tag, vr, rule):
        self.calls.append(("meta_element", format_path((), tag), rule and rule.origin.line))

    def group_length(self, ds, ancestry, tag):
        self.calls.append(("group_length", format_path(ancestry, tag), None))

    def private_creator(self, ds, ancestry, tag):
        self.calls.append(("private_creator", format_path(ancestry, tag), None))

    def element(self, ds, ancestry, tag, vr, creator, rule):
        self.calls.append(("element", format_path(ancestry, tag), (vr, creator, rule and rule.origin.line)))
        if self.delete and rule is not None and type(rule.action).__name__ == "RemoveAction":
            del ds._dict[tag]

    def deferred_clean(self, item, ancestry, tag, vr, rule):
        self.calls.append(("deferred_clean", format_path(ancestry, tag), rule.origin.line))

    def dead_creator(self, ds, ancestry, tag):
        self.calls.append(("dead_creator", format_path(ancestry, tag), None))


def test_order_rules_sequences_entered_and_clean_reach(compile_plan):
    plan = compile_plan(RULES, header=False)  # line 2 PatientName ... 7 the ACME block's *, 9 default
    ds = dataset()
    recorder = Recorder(plan, ds)
    recorder.visit_file(ds)
    assert recorder.calls == [
        ("owned_meta", "(0002,0010)", None),  # the file meta first; TransferSyntaxUID is deidc's
        ("meta_element", "(0002,0016)", 9),
        ("group_length", "(0008,0000)", None),
        ("element", "(0008,1110)", ("SQ", None, 9)),  # kept: entered
        ("element", "(0008,1110)[0]/(0008,1155)", ("UI", None, 9)),
        ("private_creator", "(0009,0010)", None),
        ("element", "(0009,1001)", ("LO", "ACME", 7)),
        ("element", "(0010,0010)", ("PN", None, 2)),
        ("element", "(0010,1002)", ("SQ", None, 3)),  # removed: not entered
        ("private_creator", "(0011,0010)", None),
        ("element", "(0011,1001)", ("LO", "OTHER", 9)),
        ("element", "(0040,0275)", ("SQ", None, 4)),  # cleaned: entered, each by its own rule...
        ("element", "(0040,0275)[0]/(0032,1060)", ("LO", None, 9)),
        ("element", "(0040,0275)[0]/(0040,0008)", ("SQ", None, 9)),
        ("element", "(0040,0275)[0]/(0040,0008)[0]/(0008,0100)", ("SH", None, 9)),
        ("element", "(0040,0275)[0]/(0040,0008)[0]/(0008,0104)", ("LO", None, 9)),
        ("element", "(0040,0275)[0]/(0040,1001)", ("SH", None, 5)),
        ("deferred_clean", "(0040,0275)[0]/(0032,1060)", 4),  # ...then the free text at any depth
        ("deferred_clean", "(0040,0275)[0]/(0040,0008)[0]/(0008,0100)", 4),
        ("deferred_clean", "(0040,0275)[0]/(0040,0008)[0]/(0008,0104)", 4),
        ("deferred_clean", "(0040,0275)[0]/(0040,1001)", 4),  # this recorder removes nothing
    ]


def test_a_hook_may_delete_its_element_and_creators_follow_their_blocks(compile_plan):
    plan = compile_plan(RULES, header=False)
    ds = dataset()
    recorder = Recorder(plan, ds, delete=True)
    recorder.visit_file(ds)
    calls = [(hook, path) for hook, path, _ in recorder.calls]
    assert ("dead_creator", "(0009,0010)") in calls  # its only element was removed
    assert ("dead_creator", "(0011,0010)") not in calls
    assert calls.index(("dead_creator", "(0009,0010)")) > calls.index(("element", "(0040,0275)"))
    # what was removed before the sequence's clean is not cleaned: RequestedProcedureID
    assert ("deferred_clean", "(0040,0275)[0]/(0040,1001)") not in calls
    assert ("deferred_clean", "(0040,0275)[0]/(0032,1060)") in calls
    # every element was visited, once, although the hook deleted some while their dataset was walked
    untouched = Recorder(plan, dataset())
    untouched.visit_file(dataset())
    assert [c for c in recorder.calls if c[0] == "element"] == [c for c in untouched.calls if c[0] == "element"]


class Reader(OriginalValuesVisitor):
    def __init__(self, read):
        super().__init__(read)
        self.paths: list[str] = []

    def read_value(self, ds, ancestry, tag):
        self.paths.append(format_path(ancestry, tag))


def test_before_the_rules_every_sequence_is_entered_but_those_read():
    ds = dataset()
    reader = Reader({0x00100020, 0x00100010, 0x00400008, 0x00080104, 0x00090010})
    reader.visit(ds, ())
    assert reader.paths == [
        "(0009,0010)",  # nothing is set apart before the rules: a creator is read like any element
        "(0010,0010)",
        "(0010,1002)[0]/(0010,0020)",  # in a sequence the rules remove: PHI all the same
        "(0040,0275)[0]/(0040,0008)",  # read, so not entered: (0008,0104) inside is not reached
    ]
