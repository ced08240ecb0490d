"""moto's DynamoDB at less CPU per call, with the same answers (the local runtime's and the benches' moto).

Profile of a webhook delivery's calls (docs/delivery.md, "Throughput"): most of moto's time per
UpdateItem goes to parsing the update expression (twice: the response layer and the backend each parse
it), deep-copying the parsed tree for the validator, and ten validator passes whose traversal rebuilds
each pass's node-type table at every node; most of a read's (GetItem, BatchGetItem, Query) goes to the
response serialiser, which looks every member of every output shape up through six alias providers. Here:

1. `UpdateExpressionParser.make` keeps, per expression text, the parsed tree pickled, and answers each
   call with a fresh tree from it: parsing is a pure function of the text (names and values are bound
   later, by the validator, on its own copy), so a reused placeholder with new values, or new names,
   sees nothing of an earlier call. An expression that does not parse raises every time (not cached).
2. The validator's deep copy of the tree is a pickle round trip (the same objects rebuilt, parent
   links included, several times faster than `copy.deepcopy` through ABCMeta classes).
3. A traversal pass's `_processing_map()` (a dict literal of node classes per pass, moto builds it
   again at every node) is built once per pass object, and its isinstance tests against the nodes'
   ABCMeta classes (thousands per UpdateItem) are answered from a table per concrete node class: no
   node class registers virtual subclasses or hooks `__subclasshook__`, so `isinstance(node, C)` is
   `issubclass(type(node), C)`, fixed per class.
4. DynamoDB's results (`DynamoResult`: plain dicts in the wire's shape) are serialised by moto's own
   serialiser, with the member lookup for a dict cached per (shape, parent, member): the aliases moto
   would try for a dict depend on those alone (a dict has no `Meta` and one class name), so the first
   alias found is the one moto would have found. Any other object, or a registered response
   transformer, takes moto's own lookup.

Pinned to moto 5.2.1 (requirements.txt): `install()` refuses another version (moto's own code then runs,
and tests/unit/test_local_moto_fastpath.py fails on the version check) rather than patching code it was
not checked against. Installed by moto_dynamodb.install(), so the moto server of `make run`, the
benches' server and in-process modes and the tests' moto all run it.
"""

from __future__ import annotations

import pickle
import threading
from collections.abc import Callable
from typing import Any

import moto
from moto.core.responses import ActionContext, ActionResult
from moto.core.serialize import AttributePickerContext, ResponseSerializer, XFormedAttributePicker
from moto.core.utils import MISSING
from moto.core.utils import get_value as moto_get_value
from moto.dynamodb.parsing import validators
from moto.dynamodb.parsing.ast_nodes import (  # type: ignore[attr-defined]  # moto's untyped parser
    DepthFirstTraverser,
    Expression,
    Node,
    UpdateExpressionFunction,
)
from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
from moto.dynamodb.responses import DynamoResult

PINNED_MOTO = "5.2.1"
MAX_EXPRESSIONS = 1024  # distinct update expressions kept (the hub's code has a few dozen)

_originals: dict[str, Any] = {}
_lock = threading.Lock()
_templates: dict[str, bytes] = {}  # update expression text -> its parsed tree, pickled
# (id(shape), id(parent), member) -> (shape, parent, the keys moto tries for a dict, in its order)
_dict_keys: dict[tuple[int, int, str], tuple[Any, Any, tuple[str, ...]]] = {}
_subclass: dict[tuple[type, Any], bool] = {}  # (concrete class, class or classes) -> issubclass
# pass class -> node class -> the pass's function for it (None: not processed)
_processors: dict[type, dict[type, Callable[[Any, Any], Any] | None]] = {}
_fast_serializers: dict[type[ResponseSerializer], type[ResponseSerializer]] = {}


class MotoVersionMismatch(RuntimeError):
    pass


def install() -> None:
    """Patch moto (idempotent). Raises MotoVersionMismatch on a moto it was not checked against."""
    with _lock:
        if _originals:
            return
        if moto.__version__ != PINNED_MOTO:
            raise MotoVersionMismatch(f"moto_fastpath is checked against moto {PINNED_MOTO}, not {moto.__version__}")
        _originals["make"] = UpdateExpressionParser.__dict__["make"]
        UpdateExpressionParser.make = classmethod(_make)  # type: ignore[method-assign,assignment]
        _originals["deepcopy"] = validators.deepcopy
        validators.deepcopy = _copy  # type: ignore[attr-defined,assignment]
        _originals["process"] = DepthFirstTraverser.process
        _originals["nodes_to_be_processed"] = DepthFirstTraverser.nodes_to_be_processed
        DepthFirstTraverser.process = _process  # type: ignore[method-assign]
        DepthFirstTraverser.nodes_to_be_processed = _nodes_to_be_processed  # type: ignore[method-assign]
        _originals["traverse_node_recursively"] = DepthFirstTraverser.traverse_node_recursively
        DepthFirstTraverser.traverse_node_recursively = _traverse_node_recursively  # type: ignore[method-assign]
        _originals["find_clauses"] = Node.find_clauses
        Node.find_clauses = _find_clauses  # type: ignore[method-assign]
        _originals["execute_result"] = DynamoResult.__dict__.get("execute_result")
        DynamoResult.execute_result = _execute_result  # type: ignore[method-assign]


def uninstall() -> None:
    with _lock:
        if not _originals:
            return
        UpdateExpressionParser.make = _originals.pop("make")  # type: ignore[method-assign]
        validators.deepcopy = _originals.pop("deepcopy")  # type: ignore[attr-defined]
        DepthFirstTraverser.process = _originals.pop("process")  # type: ignore[method-assign]
        DepthFirstTraverser.nodes_to_be_processed = _originals.pop("nodes_to_be_processed")  # type: ignore[method-assign]
        DepthFirstTraverser.traverse_node_recursively = _originals.pop("traverse_node_recursively")  # type: ignore[method-assign]
        Node.find_clauses = _originals.pop("find_clauses")  # type: ignore[method-assign]
        original = _originals.pop("execute_result")
        if original is None:
            del DynamoResult.execute_result  # it was ActionResult's
        else:
            DynamoResult.execute_result = original  # type: ignore[method-assign]
        _templates.clear()
        _dict_keys.clear()
        _processors.clear()


def installed() -> bool:
    return bool(_originals)


def _make(cls: type[UpdateExpressionParser], expression_str: str) -> Any:
    original: Callable[[str], Any] = _originals["make"].__get__(None, cls)
    if cls is not UpdateExpressionParser or type(expression_str) is not str:
        return original(expression_str)
    template = _templates.get(expression_str)
    if template is None:
        tree = original(expression_str)  # a syntax error raises here, each time, and is not kept
        template = pickle.dumps(tree, protocol=pickle.HIGHEST_PROTOCOL)
        with _lock:
            if len(_templates) >= MAX_EXPRESSIONS:
                del _templates[next(iter(_templates))]  # the oldest
            _templates[expression_str] = template
        return tree
    return pickle.loads(template)  # noqa: S301 - bytes this module pickled itself, never input


def _copy(value: Any, memo: Any = None) -> Any:
    if isinstance(value, Node) and memo is None:
        return pickle.loads(pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL))  # noqa: S301 - our own bytes
    return _originals["deepcopy"](value, memo)


def _processing_map(traverser: DepthFirstTraverser) -> dict[type, Callable[[Any], Any]]:
    found: dict[type, Callable[[Any], Any]] | None = traverser.__dict__.get("_fastpath_map")
    if found is None:
        found = traverser._processing_map()
        traverser.__dict__["_fastpath_map"] = found
    return found


def _nodes_to_be_processed(self: DepthFirstTraverser) -> tuple[type, ...]:
    found: tuple[type, ...] | None = self.__dict__.get("_fastpath_types")
    if found is None:
        found = tuple(_processing_map(self))
        self.__dict__["_fastpath_types"] = found
    return found


def _process(self: DepthFirstTraverser, node: Any) -> Any:
    for class_key, processor in _processing_map(self).items():
        if _is_a(type(node), class_key):
            return processor(node)
    return None


def _is_a(cls: type, classes: type | tuple[type, ...]) -> bool:
    """isinstance of an instance of `cls`, from a table (see 3. above)."""
    key = (cls, classes)
    found = _subclass.get(key)
    if found is None:
        found = issubclass(cls, classes)
        _subclass[key] = found
    return found


def _processor_for(traverser: DepthFirstTraverser, cls: type) -> Callable[[Any, Any], Any] | None:
    """The function `process` would call for a node of class `cls`, None when the pass leaves it: the
    first class of the pass's `_processing_map()` (a literal, the same for every instance of the pass)
    the node is an instance of. Kept per pass class and node class."""
    table = _processors.get(type(traverser))
    if table is None:
        table = _processors.setdefault(type(traverser), {})
    if cls in table:
        return table[cls]
    found = None
    for class_key, processor in _processing_map(traverser).items():
        if issubclass(cls, class_key):
            found = processor.__func__  # type: ignore[attr-defined]  # a bound method of the pass
            break
    table[cls] = found
    return found


def _traverse_node_recursively(self: DepthFirstTraverser, node: Any, child_id: int = -1) -> Any:
    """DepthFirstTraverser.traverse_node_recursively (moto 5.2.1), its isinstance tests from tables."""
    cls = type(node)
    if _is_a(cls, Node):
        parent_node = node.parent
        if node.children is not None:
            for i, child_node in enumerate(node.children):
                self.pre_processing_of_child(node, i)
                self.traverse_node_recursively(child_node, i)
        processor = _processor_for(self, cls)
        if processor is not None:
            node = processor(self, node)
            node.parent = parent_node
            if parent_node:
                parent_node.children[child_id] = node
    return node


def _find_clauses(self: Node, clause_types: Any) -> list[Any]:
    """Node.find_clauses (moto 5.2.1), its isinstance tests from the table."""
    clauses: list[Any] = []
    for child in self.children or []:
        if type(child) in clause_types:
            clauses.append(child)
        elif _is_a(type(child), Expression) or _is_a(type(child), UpdateExpressionFunction):
            clauses.extend(child.find_clauses(clause_types))
    return clauses


def _execute_result(self: ActionResult, context: ActionContext) -> Any:
    """ActionResult.execute_result (moto 5.2.1) with the dict-fast serialiser class."""
    from moto.core import responses

    transformers = getattr(context.response, "RESPONSE_KEY_PATH_TO_TRANSFORMER", None)
    serializer = _fast_class(context.serializer_class)(
        operation_model=context.operation_model,
        pretty_print=responses.settings.PRETTIFY_RESPONSES,
        value_picker=XFormedAttributePicker(response_transformers=transformers),
    )
    serialized = serializer.serialize(self.result)
    return serialized["status_code"], serialized["headers"], serialized["body"]


def _fast_class(serializer_cls: type[ResponseSerializer]) -> type[ResponseSerializer]:
    found = _fast_serializers.get(serializer_cls)
    if found is None:
        found = type(f"Fast{serializer_cls.__name__}", (serializer_cls,), {"get_value": _get_value})
        _fast_serializers[serializer_cls] = found
    return found


def _get_value(self: ResponseSerializer, value: Any, key: str, shape: Any) -> Any:
    picker = self._value_picker
    if type(value) is not dict or not isinstance(picker, XFormedAttributePicker) or picker.response_transformers:
        return ResponseSerializer.get_value(self, value, key, shape)
    for possible in _keys_for_dict(picker, shape, key):
        found = moto_get_value(value, possible, MISSING)
        if found is not MISSING:
            return found
    return None


def _keys_for_dict(picker: XFormedAttributePicker, shape: Any, key: str) -> tuple[str, ...]:
    """The keys moto's picker tries, in its order, on any dict for this member of this shape."""
    parent = getattr(shape, "parent", None)
    cache_key = (id(shape), id(parent), key)
    hit = _dict_keys.get(cache_key)
    if hit is not None and hit[0] is shape and hit[1] is parent:
        return hit[2]
    context = AttributePickerContext(obj={}, key=key, shape=shape)
    keys = tuple(picker.get_possible_keys(context))
    _dict_keys[cache_key] = (shape, parent, keys)  # holds shape and parent: their ids stay theirs
    return keys
