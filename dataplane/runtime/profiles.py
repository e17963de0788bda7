"""Action profiles and action selectors at run time: members, groups and indirect tables.

An indirect table (one with ``implementation = action_profile(...)`` or
``action_selector(...)``) does not hold actions in its entries. As in BMv2:

- the control plane creates *members* in the profile, each an action with its
  arguments, and gets a handle for each (the lowest free one, from 0);
- with a selector it also creates *groups* of members;
- an entry of the table points to a member, or (with a selector) to a group;
  at lookup a group picks one of its members by a hash of the table's
  ``selector`` key fields: the member at position ``hash % size`` in the group,
  members kept in order of their handles (BMv2's ``get_nth``);
- a miss runs the table's default: the program's default action unless the
  control plane made a member (or group) the default;
- a member or group cannot be deleted while an entry, a default or (for a
  member) a group uses it; an entry cannot point to an empty group. A group
  that becomes empty while an entry points to it runs no action (BMv2 logs an
  error and does the same).

Several tables may share one profile (a declared instance named by each
table's ``implementation``): they then see the same members and groups. A
member's action must be an action of every table sharing the profile.
"""

from __future__ import annotations

import bisect
import heapq

from .hashing import ALGORITHMS, pack_bits
from .tables import ActionSpec, Entry, MatchValue, Table, TableError

MAX_HANDLE = (1 << 32) - 1          # handles are 32-bit numbers in BMv2 and P4Runtime


class Member:
    """An action with its arguments; `aid` indexes the profile's actions."""
    __slots__ = ("handle", "aid", "args", "refs")
    is_group = False

    def __init__(self, handle: int, aid: int, args: tuple):
        self.handle = handle
        self.aid = aid
        self.args = args
        self.refs = 0               # entries, defaults and groups that use it

    def __repr__(self) -> str:
        return f"Member({self.handle}, aid={self.aid}, args={self.args})"


class Group:
    """Members of an action selector, in order of their handles; one is chosen per packet by hash."""
    __slots__ = ("handle", "members", "refs")
    is_group = True

    def __init__(self, handle: int):
        self.handle = handle
        self.members: list[Member] = []
        self.refs = 0               # entries and defaults that use it

    def __repr__(self) -> str:
        return f"Group({self.handle}, members={[m.handle for m in self.members]})"


class IndirectEntry(Entry):
    """A table entry that points to a member or group (`ref`) instead of holding an action."""
    __slots__ = ("ref",)


class _Handles:
    """Handles as BMv2 gives them: the lowest free number; a caller may also choose one (P4Runtime ids)."""

    def __init__(self, what: str, owner: str):
        self.what = what
        self.owner = owner                  # "action selector 'X'", for messages
        self.used: set[int] = set()
        self.free: list[int] = []           # released handles below `next`, smallest first
        self.next = 0

    def take(self, wanted: int | None = None) -> int:
        if wanted is not None:
            if isinstance(wanted, bool) or not isinstance(wanted, int) or not 0 <= wanted <= MAX_HANDLE:
                raise TableError(f"{self.what} id {wanted} is not a number from 0 to {MAX_HANDLE}")
            if wanted in self.used:
                raise TableError(f"{self.owner} already has a {self.what} {wanted}")
            self.used.add(wanted)
            return wanted
        while self.free:
            h = heapq.heappop(self.free)
            if h not in self.used:
                self.used.add(h)
                return h
        while self.next in self.used:
            self.next += 1
        h = self.next
        self.next += 1
        self.used.add(h)
        return h

    def release(self, h: int) -> None:
        self.used.discard(h)
        if h < self.next:
            heapq.heappush(self.free, h)


class ActionProfile:
    """An action_profile (algorithm None) or action_selector instance of one device."""

    def __init__(self, name: str, size: int, algorithm: str | None = None, max_group_size: int | None = None):
        self.name = name
        self.size = size                          # members it may hold (and groups, for a selector)
        self.algorithm = algorithm                # the selector's HashAlgorithm, None without a selector
        self.max_group_size = max_group_size      # @max_group_size, None: only the size limits a group
        self.actions: list[ActionSpec] = []       # the actions of its tables; Member.aid indexes them
        self.tables: list[IndirectTable] = []
        self.members: dict[int, Member] = {}
        self.groups: dict[int, Group] = {}
        self._member_handles = _Handles("member", f"{self.kind} '{name}'")
        self._group_handles = _Handles("group", f"{self.kind} '{name}'")

    @property
    def with_selector(self) -> bool:
        return self.algorithm is not None

    @property
    def kind(self) -> str:
        return "action selector" if self.with_selector else "action profile"

    def attach(self, table: "IndirectTable") -> None:
        """A table uses this profile: its actions become possible member actions."""
        self.tables.append(table)
        known = {a.name for a in self.actions}
        for a in table.actions:
            if a.name not in known:
                self.actions.append(ActionSpec(a.name, a.short_name, a.params, len(self.actions)))
                known.add(a.name)
        for t in self.tables:
            t.profile_aids = [t.actions_by_name[a.name].aid if a.name in t.actions_by_name else -1
                              for a in self.actions]

    # -- lookups ------------------------------------------------------------------------------

    def action(self, name: str) -> ActionSpec:
        for a in self.actions:
            if a.name == name:
                return a
        found = [a for a in self.actions if a.name.endswith("." + name) or a.short_name == name]
        if len(found) == 1:
            return found[0]
        if found:
            raise TableError(f"action name '{name}' is ambiguous in {self.kind} '{self.name}': "
                             f"{', '.join(a.name for a in found)}")
        names = ", ".join(a.name for a in self.actions) or "none"
        raise TableError(f"{self.kind} '{self.name}' has no action '{name}' (its actions: {names})")

    def member(self, handle: int) -> Member:
        m = self.members.get(handle)
        if m is None:
            raise TableError(f"{self.kind} '{self.name}' has no member {handle}"
                             + _known(self.members, "members"))
        return m

    def group(self, handle: int) -> Group:
        self._need_selector("groups")
        g = self.groups.get(handle)
        if g is None:
            raise TableError(f"{self.kind} '{self.name}' has no group {handle}" + _known(self.groups, "groups"))
        return g

    def _need_selector(self, what: str) -> None:
        if not self.with_selector:
            raise TableError(f"action profile '{self.name}' has no selector, so it has no {what}")

    # -- members --------------------------------------------------------------------------------

    def _member_action(self, action: str, args) -> tuple[int, tuple]:
        if not self.tables:
            raise TableError(f"{self.kind} '{self.name}' is used by no table, so it has no actions")
        spec = self.action(action)
        for t in self.tables:
            own = t.actions_by_name.get(spec.name)
            if own is None or own.name != spec.name:
                raise TableError(f"action '{spec.name}' cannot be a member of {self.kind} '{self.name}': "
                                 f"table '{t.name}', which uses it, does not list that action")
            if own.default_only:
                raise TableError(f"action '{spec.name}' is @defaultonly in table '{t.name}', so it cannot be a "
                                 f"member of {self.kind} '{self.name}'")
        return spec.aid, self.tables[0].check_args(spec, args)

    def create_member(self, action: str, args=(), handle: int | None = None) -> int:
        """Add a member running `action` with `args`; returns its handle (or uses the one given)."""
        aid, argv = self._member_action(action, args)
        if len(self.members) >= self.size:
            raise TableError(f"{self.kind} '{self.name}' is full ({self.size} members)")
        h = self._member_handles.take(handle)
        self.members[h] = Member(h, aid, argv)
        return h

    def modify_member(self, handle: int, action: str, args=()) -> None:
        m = self.member(handle)
        m.aid, m.args = self._member_action(action, args)

    def delete_member(self, handle: int) -> None:
        m = self.member(handle)
        if m.refs:
            raise TableError(f"member {handle} of {self.kind} '{self.name}' is still used by {m.refs} table "
                             f"entr{'y' if m.refs == 1 else 'ies'}, default(s) or group(s)")
        del self.members[handle]
        self._member_handles.release(handle)

    # -- groups ---------------------------------------------------------------------------------

    def create_group(self, handle: int | None = None) -> int:
        self._need_selector("groups")
        if len(self.groups) >= self.size:
            raise TableError(f"action selector '{self.name}' is full ({self.size} groups)")
        h = self._group_handles.take(handle)
        self.groups[h] = Group(h)
        return h

    def delete_group(self, handle: int) -> None:
        g = self.group(handle)
        if g.refs:
            raise TableError(f"group {handle} of action selector '{self.name}' is still used by {g.refs} table "
                             f"entr{'y' if g.refs == 1 else 'ies'} or default(s)")
        for m in g.members:
            m.refs -= 1
        del self.groups[handle]
        self._group_handles.release(handle)

    def add_member_to_group(self, member: int, group: int) -> None:
        g = self.group(group)
        m = self.member(member)
        if m in g.members:
            raise TableError(f"member {member} is already in group {group} of action selector '{self.name}'")
        if self.max_group_size is not None and len(g.members) >= self.max_group_size:
            raise TableError(f"group {group} of action selector '{self.name}' is full "
                             f"(@max_group_size({self.max_group_size}))")
        g.members.insert(bisect.bisect([x.handle for x in g.members], m.handle), m)
        m.refs += 1

    def remove_member_from_group(self, member: int, group: int) -> None:
        g = self.group(group)
        m = self.member(member)
        if m not in g.members:
            raise TableError(f"member {member} is not in group {group} of action selector '{self.name}'")
        g.members.remove(m)
        m.refs -= 1

    def describe(self, ref) -> str:
        if ref.is_group:
            return f"group {ref.handle}"
        return f"member {ref.handle}"


def _known(registry: dict, what: str) -> str:
    if not registry:
        return f" (it has no {what} yet)"
    handles = sorted(registry)
    shown = ", ".join(map(str, handles[:10])) + (", ..." if len(handles) > 10 else "")
    return f" (its {what}: {shown})"


def selector_hash(algorithm: str, data: int, width: int) -> int:
    """The hash an action selector computes over its input, as BMv2 does.

    The selector key fields are laid out as bits (fields of invalid headers
    left out) and padded with zero bits to whole bytes; `identity` reads the
    first 8 bytes as a number, the CRCs and checksums hash all of them."""
    buf = pack_bits(data, width)
    if algorithm == "identity":
        return int.from_bytes(buf[:8], "big")
    return ALGORITHMS[algorithm](buf)


SELECTOR_ALGORITHMS = frozenset(ALGORITHMS) | {"random"}


class IndirectTable(Table):
    """A table whose entries point to members or groups of an action profile.

    Generated pipelines read `default_ref` (the member or group the control
    plane made the default, else None for the program's default action),
    each entry's `ref`, and `profile_aids` (a member's action as this table's
    action id)."""

    def __init__(self, *args, profile: ActionProfile, **kwargs):
        super().__init__(*args, **kwargs)
        self.profile = profile
        self.default_ref: Member | Group | None = None
        self.profile_aids: list[int] = []
        profile.attach(self)

    def _indirect(self, what: str, hint: str) -> TableError:
        return TableError(f"table '{self.name}' is indirect (its actions are the members of {self.profile.kind} "
                          f"'{self.profile.name}'): {what}; {hint}")

    # -- entries ---------------------------------------------------------------------------------

    def add(self, match: list[MatchValue], action: str, args=(), priority: int | None = None,
            is_const: bool = False) -> int:
        raise self._indirect("its entries point to a member or a group",
                             "create a member and add an entry for it (act_prof_create_member, table_indirect_add)")

    def add_member_entry(self, match: list[MatchValue], member: int, priority: int | None = None) -> int:
        """Add an entry that runs the action of a member; returns the entry's handle."""
        return self._add_ref(match, self.profile.member(member), priority)

    def add_group_entry(self, match: list[MatchValue], group: int, priority: int | None = None) -> int:
        """Add an entry that runs a member of a group, chosen by hash; returns the entry's handle."""
        return self._add_ref(match, self.usable_group(group), priority)

    def usable_group(self, handle: int) -> Group:
        """A group an entry or the default may point to: one that exists and has members."""
        g = self.profile.group(handle)
        if not g.members:
            raise TableError(f"group {handle} of action selector '{self.profile.name}' is empty: add members "
                             f"to it first (an empty group has no action to run)")
        return g

    def _add_ref(self, match: list[MatchValue], ref, priority: int | None) -> int:
        if not self.keys:
            raise TableError(f"table '{self.name}' has no key; make a member or group its default instead "
                             f"(table_indirect_set_default)")
        self._check_room()
        key, mask, ranges = self.encode_match(match)
        e = IndirectEntry(self._next_handle, key, mask, ranges, -1, (), self.check_priority(priority), list(match))
        e.ref = ref
        handle = self.insert(e)
        ref.refs += 1
        return handle

    def delete(self, handle: int) -> None:
        e = self.entries.get(handle)
        super().delete(handle)
        e.ref.refs -= 1

    def modify(self, handle: int, action: str, args=()) -> None:
        raise self._indirect("an entry points to a member or a group",
                             "change the member (act_prof_modify_member) or replace the entry")

    def clear(self, keep_const: bool = True) -> None:
        for e in self.entries.values():
            e.ref.refs -= 1
        super().clear(keep_const)

    # -- the default ----------------------------------------------------------------------------

    def set_default(self, action: str, args=()) -> None:
        raise self._indirect("its default is the program's default action or a member or group",
                             "make a member the default (table_indirect_set_default)")

    def set_default_member(self, member: int) -> None:
        self._set_default_ref(self.profile.member(member))

    def set_default_group(self, group: int) -> None:
        self._set_default_ref(self.usable_group(group))

    def _set_default_ref(self, ref) -> None:
        if self.default_is_const:
            raise TableError(f"the default action of table '{self.name}' is const and cannot be changed")
        self.reset_default()
        ref.refs += 1
        self.default_ref = ref

    def reset_default(self) -> None:
        """Back to the program's default action (BMv2's table_indirect_reset_default)."""
        if self.default_ref is not None:
            self.default_ref.refs -= 1
            self.default_ref = None

    # -- describing -----------------------------------------------------------------------------

    def describe_entry(self, e: Entry | None) -> str:
        if e is None:
            if self.default_ref is not None:
                return f"default {self.profile.describe(self.default_ref)}"
            return super().describe_entry(None)
        return f"entry {e.handle} [{self.match_text(e)}] -> {self.profile.describe(e.ref)}" + \
            (f" priority {e.priority}" if self.needs_priority else "")
