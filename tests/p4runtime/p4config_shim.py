"""p4.tmp.p4config_pb2 for the tutorials' p4runtime_lib, which imports it: the `p4runtime` package stopped
shipping p4.tmp, so the one message it uses (P4DeviceConfig, of p4runtime's p4/tmp/p4config.proto) is
made here from its descriptor. Only test clients import this; the server reads the message's field 3."""

from __future__ import annotations

import sys
import types

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory


def install() -> None:
    try:
        import p4.tmp.p4config_pb2  # noqa: F401 - present in older p4runtime releases
        return
    except ImportError:
        pass
    F = descriptor_pb2.FieldDescriptorProto
    fdp = descriptor_pb2.FileDescriptorProto(name="p4/tmp/p4config.proto", package="p4.tmp", syntax="proto3")
    m = fdp.message_type.add(name="P4DeviceConfig")
    m.field.add(name="reassign", number=1, type=F.TYPE_BOOL, label=F.LABEL_OPTIONAL)
    m.field.add(name="device_data", number=3, type=F.TYPE_BYTES, label=F.LABEL_OPTIONAL)
    pool = descriptor_pool.Default()
    pool.Add(fdp)
    cls = message_factory.MessageFactory(pool).GetPrototype(pool.FindMessageTypeByName("p4.tmp.P4DeviceConfig"))
    module = types.ModuleType("p4.tmp.p4config_pb2")
    module.P4DeviceConfig = cls
    package = types.ModuleType("p4.tmp")
    package.p4config_pb2 = module
    sys.modules["p4.tmp"] = package
    sys.modules["p4.tmp.p4config_pb2"] = module
