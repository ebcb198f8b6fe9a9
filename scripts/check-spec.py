#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Check that the YNL spec of the rwlayer family agrees with the code.

The spec (kmod/uapi/rwlayer.yaml) is compared with
  * the uapi header (kmod/uapi/linux/rwlayer.h): the family name, version
    and multicast group defines, every command, attribute and enum value,
    and the constants, with the values computed as the kernel's YNL
    (tools/net/ynl) computes them; every RWLAYER_* name of the header must
    come from the spec;
  * the module (kmod/netlink.c): every attribute of every nla_policy with
    the same type and checks, each command's handlers and policy against
    its do/dump requests, the family's name, version and groups, every
    attribute the module puts into a message against the spec's type (and
    a reply or event of the spec that carries it), and every attribute it
    reads with nla_get_*() against the spec's type.

Prints TAP and exits 1 on any mismatch, 2 when a file cannot be read or
parsed.  Needs python3 and PyYAML only.
"""
import argparse
import ast
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


class ParseError(Exception):
    pass


def c_upper(name):
    return name.upper().replace('-', '_')


def c_lower(name):
    return name.lower().replace('-', '_')


# ---- C parsing -------------------------------------------------------------

def strip_c_comments(text):
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'),
                  text, flags=re.S)
    return re.sub(r'//[^\n]*', '', text)


def split_top(text, sep=','):
    """Split @text at @sep outside (), {} and []."""
    parts, depth, cur = [], 0, ''
    for ch in text:
        if ch in '({[':
            depth += 1
        elif ch in ')}]':
            depth -= 1
        if ch == sep and depth == 0:
            parts.append(cur)
            cur = ''
        else:
            cur += ch
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


_ALLOWED_NODES = (ast.Expression, ast.BinOp, ast.UnaryOp, ast.Constant,
                  ast.Add, ast.Sub, ast.Mult, ast.LShift, ast.RShift,
                  ast.BitOr, ast.BitAnd, ast.USub, ast.Invert)


def c_eval(expr, names):
    """The value of a C integer constant expression over @names."""
    def number(m):
        lit = re.sub(r'[uUlL]+$', '', m.group(0))
        if re.fullmatch(r'0[0-7]+', lit):
            return str(int(lit, 8))
        return str(int(lit, 0))

    def name(m):
        if m.group(0) not in names:
            raise ParseError(f'unknown name {m.group(0)} in "{expr}"')
        value = names[m.group(0)]
        if not isinstance(value, int):
            raise ParseError(f'{m.group(0)} is not a number in "{expr}"')
        return f'({value})'

    py = re.sub(r'\b(0[xX][0-9a-fA-F]+|\d+)[uUlL]*\b', number, expr)
    py = re.sub(r'\b[A-Za-z_]\w*\b', name, py)
    tree = ast.parse(py.strip(), mode='eval')
    for node in ast.walk(tree):
        if not isinstance(node, _ALLOWED_NODES):
            raise ParseError(f'cannot evaluate "{expr}"')
    return eval(compile(tree, '<c>', 'eval'), {'__builtins__': {}})


class Header:
    """The defines and enums of a uapi header."""

    def __init__(self, path):
        text = strip_c_comments(open(path).read())
        self.values = {}          # name -> int or str
        self.enum_of = {}         # name -> enum tag ('' when anonymous)
        self.enums = {}           # tag -> [names]
        self.guard = None
        for m in re.finditer(r'^#\s*define\s+(\w+)[ \t]*(.*)$', text, re.M):
            name, body = m.group(1), m.group(2).strip()
            if not body:
                self.guard = name
                continue
            if body.startswith('"'):
                self.values[name] = ast.literal_eval(body)
            else:
                self.values[name] = c_eval(body, self.values)
        for m in re.finditer(r'\benum\s*(\w*)\s*\{(.*?)\}\s*;', text, re.S):
            tag, prev = m.group(1), -1
            self.enums[tag] = []
            for item in split_top(m.group(2)):
                name, _, expr = item.partition('=')
                name = name.strip()
                prev = c_eval(expr, self.values) if expr.strip() else prev + 1
                self.values[name] = prev
                self.enum_of[name] = tag
                self.enums[tag].append(name)


def c_initializer(text, decl):
    """The body of the array or struct initializer declared by @decl."""
    m = re.search(decl + r'[^=;]*=\s*\{', text)
    if not m:
        return None
    depth, start = 1, m.end()
    for i in range(start, len(text)):
        if text[i] == '{':
            depth += 1
        elif text[i] == '}':
            depth -= 1
            if not depth:
                return text[start:i]
    raise ParseError(f'unterminated initializer of {decl}')


def designated(body):
    """{ .a = x, .b = y } -> {'a': 'x', 'b': 'y'}"""
    fields = {}
    for item in split_top(body.strip().strip('{}')):
        m = re.fullmatch(r'\.(\w+)\s*=\s*(.*)', item, re.S)
        if not m:
            raise ParseError(f'not a designated initializer: "{item}"')
        fields[m.group(1)] = ' '.join(m.group(2).split())
    return fields


class Module:
    """Policies, ops, family and attribute puts of kmod/netlink.c."""

    PUTS = {
        'nla_put_u8': 'u8', 'nla_put_u16': 'u16', 'nla_put_u32': 'u32',
        'nla_put_u64_64bit': 'u64', 'nla_put_s32': 's32',
        'nla_put_s64': 's64', 'nla_put_string': 'string',
        'nla_put_flag': 'flag', 'nla_nest_start': 'nest',
        'nla_put': 'binary', 'rwl_put_u64': 'u64',
    }
    GETS = {
        'nla_get_u8': 'u8', 'nla_get_u16': 'u16', 'nla_get_u32': 'u32',
        'nla_get_u64': 'u64', 'nla_get_s32': 's32', 'nla_get_s64': 's64',
        'nla_get_flag': 'flag', 'nla_data': 'string',
    }

    def __init__(self, path):
        text = strip_c_comments(open(path).read())
        macros = dict(re.findall(r'^#\s*define\s+(\w+)[ \t]+(.+)$', text,
                                 re.M))
        self.policies = {}
        for m in re.finditer(r'struct\s+nla_policy\s+(\w+)\s*\[', text):
            body = c_initializer(text, r'struct\s+nla_policy\s+' +
                                 m.group(1) + r'\s*\[')
            entries = {}
            for item in split_top(body):
                e = re.fullmatch(r'\[\s*(\w+)\s*\]\s*=\s*(.*)', item, re.S)
                if not e:
                    raise ParseError(f'policy {m.group(1)}: "{item}"')
                value = e.group(2).strip()
                value = macros.get(value, value)
                entries[e.group(1)] = ' '.join(value.split())
            self.policies[m.group(1)] = entries
        self.ops = []
        for kind in ('genl_ops', 'genl_split_ops'):
            for m in re.finditer(r'struct\s+' + kind + r'\s+(\w+)\s*\[', text):
                body = c_initializer(text, r'struct\s+' + kind + r'\s+' +
                                     m.group(1) + r'\s*\[')
                for item in split_top(body):
                    op = designated(item)
                    op['split'] = kind == 'genl_split_ops'
                    self.ops.append(op)
        self.family = None
        m = re.search(r'struct\s+genl_family\s+(\w+)[^;=]*=', text)
        if m:
            self.family = designated(
                '{' + c_initializer(text, r'struct\s+genl_family\s+' +
                                    m.group(1)) + '}')
        self.mcgrps = []
        for m in re.finditer(r'struct\s+genl_multicast_group\s+(\w+)\s*\[',
                             text):
            body = c_initializer(text, r'struct\s+genl_multicast_group\s+' +
                                 m.group(1) + r'\s*\[')
            for item in split_top(body):
                item = re.sub(r'^\[\s*\w+\s*\]\s*=\s*', '', item)
                self.mcgrps.append(designated(item))
        # (function, attribute names in its type argument)
        self.puts = self._calls(text, self.PUTS, 1)
        # (function, attribute names in its argument): nla_get_*(attrs[X])
        self.gets = self._calls(text, self.GETS, 0)

    @staticmethod
    def _calls(text, funcs, arg):
        """(function, RWLAYER_A_* names in argument @arg) of each call."""
        calls = []
        for m in re.finditer(r'\b(' + '|'.join(funcs) + r')\s*\(', text):
            args, depth, i = '', 1, m.end()
            while depth:
                ch = text[i]
                depth += ch == '('
                depth -= ch == ')'
                args += ch if depth else ''
                i += 1
            parts = split_top(args)
            if len(parts) <= arg:
                continue
            names = re.findall(r'\bRWLAYER_A_\w+', parts[arg])
            if names:
                calls.append((m.group(1), names))
        return calls


# ---- NLA policy forms ------------------------------------------------------

NLA_TYPES = {
    'NLA_U8': 'u8', 'NLA_U16': 'u16', 'NLA_U32': 'u32', 'NLA_U64': 'u64',
    'NLA_S8': 's8', 'NLA_S16': 's16', 'NLA_S32': 's32', 'NLA_S64': 's64',
    'NLA_UINT': 'uint', 'NLA_SINT': 'sint', 'NLA_FLAG': 'flag',
    'NLA_NUL_STRING': 'string', 'NLA_STRING': 'string',
    'NLA_NESTED': 'nest', 'NLA_NESTED_ARRAY': 'indexed-array',
    'NLA_BINARY': 'binary', 'NLA_UNSPEC': 'binary',
}


def policy_form(text, names):
    """(type, checks) of one nla_policy initializer."""
    m = re.fullmatch(r'NLA_POLICY_(RANGE|MIN|MAX)\(\s*(\w+)\s*,(.*)\)', text)
    if m:
        args = [c_eval(a, names) for a in split_top(m.group(3))]
        checks = {}
        if m.group(1) == 'RANGE':
            checks = {'min': args[0], 'max': args[1]}
        else:
            checks = {m.group(1).lower(): args[0]}
        return m.group(2), checks
    m = re.fullmatch(r'NLA_POLICY_(EXACT_LEN|MIN_LEN)\((.*)\)', text)
    if m:
        key = 'exact-len' if m.group(1) == 'EXACT_LEN' else 'min-len'
        return 'NLA_BINARY', {key: c_eval(m.group(2), names)}
    if text.startswith('{'):
        fields = designated(text)
        checks = {}
        if 'len' in fields:
            checks['max-len'] = c_eval(fields['len'], names)
        if fields.get('type') == 'NLA_STRING':
            checks['unterminated-ok'] = True
        return fields.get('type', 'NLA_UNSPEC'), checks
    raise ParseError(f'policy form not understood: "{text}"')


# ---- the spec as YNL computes it -------------------------------------------

class Spec:
    def __init__(self, path):
        self.y = yaml.safe_load(open(path))
        y = self.y
        self.family = y['name']
        self.ident = y['name'].replace('_', '-')
        self.consts = {d['name']: d for d in y.get('definitions', [])}
        # (C name, value, enum tag or None, what)
        self.names = []
        fam_key = c_upper(y.get('c-family-name', y['name'] + '_FAMILY_NAME'))
        ver_key = c_upper(y.get('c-version-name',
                                y['name'] + '_FAMILY_VERSION'))
        self.family_key, self.version_key = fam_key, ver_key
        self.names.append((fam_key, y['name'], None, 'family name'))
        self.names.append((ver_key, y.get('version', 1), None,
                           'family version'))
        for d in y.get('definitions', []):
            if d.get('header') or d.get('scope', 'uapi') != 'uapi':
                continue
            if d['type'] == 'const':
                self.names.append((c_upper(f"{self.ident}-{d['name']}"),
                                   d['value'], None, f"const {d['name']}"))
                continue
            self._enum(d)
        self.attrs = {}           # set -> {attr name: yaml}
        self.attr_enum = {}       # set -> C enum name -> attr name
        for s in y['attribute-sets']:
            self._attr_set(s)
        self._ops()
        self.groups = {}
        for g in y.get('mcast-groups', {}).get('list', []):
            key = c_upper(g.get('c-define-name',
                                f"{self.ident}-mcgrp-{g['name']}"))
            self.groups[key] = g
            self.names.append((key, g['name'], None,
                               f"mcast group {g['name']}"))

    def limit(self, value):
        """A check's value: a number, a const's name or u8-max style."""
        if isinstance(value, int):
            return value
        if value in self.consts:
            return self.consts[value]['value']
        m = re.fullmatch(r'([us])(8|16|32|64)-(min|max)', value)
        if not m:
            raise ParseError(f'check value "{value}" not understood')
        bits = int(m.group(2))
        if m.group(1) == 'u':
            return 0 if m.group(3) == 'min' else (1 << bits) - 1
        return -(1 << (bits - 1)) if m.group(3) == 'min' \
            else (1 << (bits - 1)) - 1

    def _enum(self, d):
        prefix = d.get('name-prefix', f"{self.ident}-{d['name']}-")
        if 'enum-name' in d:
            tag = c_lower(d['enum-name']) if d['enum-name'] else ''
        else:
            tag = c_lower(f"{self.ident}-{d['name']}")
        prev = None
        for e in d['entries']:
            e = {'name': e} if isinstance(e, str) else e
            if 'value' in e:
                value = e['value']
            elif prev is not None:
                value = prev + 1
            else:
                value = d.get('value-start', 0)
            prev = value
            user = 1 << value if d['type'] == 'flags' else value
            # Flags may be #defines in a hand-written header.
            self.names.append((c_upper(prefix + e['name']), user,
                               tag if d['type'] == 'enum' else None,
                               f"{d['type']} {d['name']}: {e['name']}"))

    def _attr_set(self, s):
        if 'subset-of' in s:
            return
        if 'name-prefix' in s:
            prefix = s['name-prefix']
        elif s['name'] == self.family:
            prefix = self.ident + '-a-'
        else:
            prefix = f"{self.ident}-a-{s['name']}-"
        tag = c_lower(s['enum-name']) if s.get('enum-name') else (
            '' if 'enum-name' in s else c_lower(f"{self.ident}-{s['name']}"))
        attrs, by_c = {}, {}
        value = 1
        for a in s['attributes']:
            value = a.get('value', value)
            cname = c_upper(a.get('name-prefix', prefix) + a['name'])
            attrs[a['name']] = dict(a, _value=value, _cname=cname)
            by_c[cname] = a['name']
            self.names.append((cname, value, tag,
                               f"attribute {s['name']}/{a['name']}"))
            value += 1
        cnt = c_upper(s.get('attr-cnt-name', '__' + prefix + 'max'))
        self.names.append((cnt, value, tag,
                           f"attribute set {s['name']} count"))
        self.names.append((c_upper(s.get('attr-max-name', prefix + 'max')),
                           value - 1, tag, f"attribute set {s['name']} max"))
        self.attrs[s['name']] = attrs
        self.attr_enum[s['name']] = by_c

    def _ops(self):
        ops = self.y['operations']
        if ops.get('enum-model', 'unified') != 'unified':
            raise ParseError('only the unified enum model is checked')
        if 'async-prefix' in ops:
            raise ParseError('async-prefix (a separate event enum) '
                             'is not checked')
        prefix = ops.get('name-prefix', self.y['name'] + '-cmd-')
        tag = c_lower(ops['enum-name']) if ops.get('enum-name') else (
            '' if 'enum-name' in ops else c_lower(f"{self.ident}-cmd"))
        self.ops = {}             # C name -> yaml
        value = 1
        for op in ops['list']:
            value = op.get('value', value)
            cname = c_upper(prefix + op['name'])
            self.ops[cname] = op
            self.names.append((cname, value, tag, f"operation {op['name']}"))
            value += 1
        self.names.append((c_upper(self.y.get('cmd-cnt-name',
                                              '__' + prefix + 'max')),
                           value, tag, 'operation count'))
        self.names.append((c_upper(self.y.get('cmd-max-name', prefix + 'max')),
                           value - 1, tag, 'operation max'))

    def attr_by_c(self, cname):
        """(set, yaml) of the attribute with C name @cname, or None."""
        for set_name, by_c in self.attr_enum.items():
            if cname in by_c:
                return set_name, self.attrs[set_name][by_c[cname]]
        return None


# ---- the checks ------------------------------------------------------------

class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def check(self, ok, what, why=''):
        self.n += 1
        if not ok:
            self.failed += 1
        print(f"{'ok' if ok else 'not ok'} {self.n} - {what}" +
              (f': {why}' if why and not ok else ''))

    def done(self):
        print(f'1..{self.n}')
        return 1 if self.failed else 0


def check_header(tap, spec, hdr):
    seen = set()
    for cname, value, tag, what in spec.names:
        seen.add(cname)
        if cname not in hdr.values:
            tap.check(False, f'{what} is {cname}', 'not in the header')
            continue
        why = ''
        if hdr.values[cname] != value:
            why = f'header has {hdr.values[cname]!r}, spec computes {value!r}'
        elif tag is not None and hdr.enum_of.get(cname) != tag:
            why = (f"in enum '{hdr.enum_of.get(cname, '(a #define)')}', "
                   f"spec says enum '{tag}'")
        tap.check(not why, f'{what} is {cname} = {value!r}', why)
    extra = sorted(n for n in hdr.values
                   if n not in seen and n != hdr.guard)
    tap.check(not extra, 'every name of the header is in the spec',
              'not in the spec: ' + ', '.join(extra))


def spec_checks(spec, attr):
    checks = {}
    for key, value in attr.get('checks', {}).items():
        checks[key] = value if key == 'unterminated-ok' else spec.limit(value)
    return checks


def check_policies(tap, spec, mod, hdr):
    for policy, entries in sorted(mod.policies.items()):
        for cname, text in entries.items():
            what = f'{policy}[{cname}]'
            found = spec.attr_by_c(cname)
            if not found:
                tap.check(False, what, 'attribute not in the spec')
                continue
            nla, checks = policy_form(text, hdr.values)
            want_type = found[1].get('type')
            want_checks = spec_checks(spec, found[1])
            why = ''
            if NLA_TYPES.get(nla) != want_type:
                why = f'{nla} in the policy, type {want_type} in the spec'
            elif checks != want_checks:
                why = f'policy checks {checks}, spec checks {want_checks}'
            tap.check(not why, f'{what} is {want_type} {want_checks or ""}'
                      .rstrip(), why)


def request_attrs(spec, op, mode):
    if mode not in op:
        return None
    names = op[mode].get('request', {}).get('attributes', [])
    attrs = spec.attrs[op['attribute-set']] if 'attribute-set' in op else {}
    return {attrs[n]['_cname'] if n in attrs else n for n in names}


def check_ops(tap, spec, mod):
    handled = {}
    for op in mod.ops:
        cmd = op.get('cmd')
        what = f'genl op {cmd}'
        if cmd not in spec.ops:
            tap.check(False, what, 'command not in the spec')
            continue
        y = spec.ops[cmd]
        policy = mod.policies.get(op.get('policy'), {}) \
            if 'policy' in op else {}
        if op.get('policy') and op['policy'] not in mod.policies:
            tap.check(False, what, f"policy {op['policy']} not found")
            continue
        modes = [m for m, f in (('do', 'doit'), ('dump', 'dumpit')) if f in op]
        handled.setdefault(cmd, set()).update(modes)
        why = ''
        for mode in modes:
            if mode not in y:
                why = f'the module has {mode}, the spec has no {mode}'
        if not why and not op['split'] and set(modes) != \
                {m for m in ('do', 'dump') if m in y}:
            why = f"the module has {' and '.join(modes) or 'no handler'}, " \
                  f"the spec {', '.join(m for m in ('do', 'dump') if m in y)}"
        if not why:
            reqs = {m: request_attrs(spec, y, m) for m in modes}
            have = set(policy)
            if op['split']:
                for m in modes:
                    if reqs[m] != have:
                        why = f'{m} request {sorted(reqs[m])}, policy ' \
                              f'{sorted(have)}'
            else:
                union = set().union(*reqs.values()) if reqs else set()
                if union != have or any(not r <= have for r in reqs.values()):
                    why = f'requests {sorted(union)}, policy {sorted(have)}'
        admin = 'GENL_ADMIN_PERM' in op.get('flags', '')
        if not why and admin != ('admin-perm' in y.get('flags', [])):
            why = 'admin-perm differs from GENL_ADMIN_PERM'
        tap.check(not why, f"{what}: {'/'.join(modes)} with "
                  f"{op.get('policy', 'no policy')}", why)
    for cname, y in spec.ops.items():
        want = {m for m in ('do', 'dump') if m in y}
        if want and handled.get(cname) != want:
            tap.check(False, f'spec operation {y["name"]}',
                      f"the module handles {sorted(handled.get(cname, []))}")
        elif want:
            tap.check(True, f'spec operation {y["name"]} has handlers')


def check_family(tap, spec, mod):
    fam = mod.family or {}
    tap.check(fam.get('name') == spec.family_key,
              f'genl_family .name is {spec.family_key}',
              f"it is {fam.get('name')}")
    tap.check(fam.get('version') == spec.version_key,
              f'genl_family .version is {spec.version_key}',
              f"it is {fam.get('version')}")
    registered = {g.get('name') for g in mod.mcgrps}
    tap.check(registered == set(spec.groups),
              f'multicast groups are {sorted(spec.groups)}',
              f'the module registers {sorted(registered)}')


def check_puts(tap, spec, mod):
    sent = set()
    for op in spec.ops.values():
        for mode in ('do', 'dump'):
            sent.update(op.get(mode, {}).get('reply', {}).get('attributes',
                                                              []))
        sent.update(op.get('event', {}).get('attributes', []))
    seen = set()
    for func, names in mod.puts:
        for cname in names:
            if (func, cname) in seen:
                continue
            seen.add((func, cname))
            found = spec.attr_by_c(cname)
            what = f'{func}({cname})'
            want = Module.PUTS[func]
            if not found:
                tap.check(False, what, 'attribute not in the spec')
            elif found[1].get('type') != want:
                tap.check(False, what, f"spec type is {found[1].get('type')}")
            elif found[1]['name'] not in sent and \
                    not in_nest(spec, found[1]['name']):
                tap.check(False, what,
                          'in no reply or event attribute list of the spec')
            else:
                tap.check(True, f'{what} matches the spec ({want})')


def check_gets(tap, spec, mod):
    seen = set()
    for func, names in mod.gets:
        for cname in names:
            if (func, cname) in seen:
                continue
            seen.add((func, cname))
            found = spec.attr_by_c(cname)
            want = Module.GETS[func]
            why = ''
            if not found:
                why = 'attribute not in the spec'
            elif found[1].get('type') != want and not \
                    (want == 'string' and found[1].get('type') == 'binary'):
                why = f"spec type is {found[1].get('type')}"
            tap.check(not why, f'{func}({cname}) reads a {want}', why)


def in_nest(spec, name):
    """Whether attribute @name is sent inside a nest (a subset set)."""
    return any(s.get('subset-of') and
               any(a['name'] == name for a in s['attributes'])
               for s in spec.y['attribute-sets'])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--spec',
                    default=os.path.join(ROOT, 'kmod/uapi/rwlayer.yaml'))
    ap.add_argument('--header',
                    default=os.path.join(ROOT, 'kmod/uapi/linux/rwlayer.h'))
    ap.add_argument('--netlink', default=os.path.join(ROOT, 'kmod/netlink.c'))
    args = ap.parse_args()
    try:
        spec = Spec(args.spec)
        hdr = Header(args.header)
        mod = Module(args.netlink)
    except (OSError, yaml.YAMLError, KeyError, ParseError, SyntaxError) as e:
        print(f'Bail out! {type(e).__name__}: {e}')
        return 2
    tap = Tap()
    try:
        check_header(tap, spec, hdr)
        check_policies(tap, spec, mod, hdr)
        check_ops(tap, spec, mod)
        check_family(tap, spec, mod)
        check_puts(tap, spec, mod)
        check_gets(tap, spec, mod)
    except (KeyError, ParseError, SyntaxError) as e:
        print(f'Bail out! {type(e).__name__}: {e}')
        return 2
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
