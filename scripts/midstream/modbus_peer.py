#!/usr/bin/python3
"""Modbus/TCP server or client for scripts/measure-midstream-fp (Debian's python3-pymodbus).

  modbus_peer.py server PORT
  modbus_peer.py client PORT ROUNDS   one connection, ROUNDS register/coil reads and writes
"""
import random
import sys


def server(port):
    from pymodbus.datastore import (ModbusSequentialDataBlock, ModbusServerContext,
                                    ModbusSlaveContext)
    from pymodbus.server import StartTcpServer
    store = ModbusSlaveContext(di=ModbusSequentialDataBlock(0, [1] * 200),
                               co=ModbusSequentialDataBlock(0, [0] * 200),
                               hr=ModbusSequentialDataBlock(0, list(range(200))),
                               ir=ModbusSequentialDataBlock(0, list(range(200))))
    StartTcpServer(context=ModbusServerContext(slaves=store, single=True),
                   address=("127.0.0.1", port))


def client(port, rounds):
    from pymodbus.client import ModbusTcpClient
    rnd = random.Random(port + rounds)
    c = ModbusTcpClient("127.0.0.1", port=port)
    if not c.connect():
        sys.exit("modbus client: cannot connect")
    for _ in range(rounds):
        addr = rnd.randrange(0, 100)
        c.read_holding_registers(addr, rnd.randrange(1, 60))
        c.write_register(addr, rnd.randrange(0, 65536))
        c.read_coils(addr, rnd.randrange(1, 90))
        c.write_registers(addr, [rnd.randrange(0, 65536) for _ in range(rnd.randrange(1, 30))])
        c.read_input_registers(addr, rnd.randrange(1, 60))
    c.close()


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(int(sys.argv[2]))
    else:
        client(int(sys.argv[2]), int(sys.argv[3]))
