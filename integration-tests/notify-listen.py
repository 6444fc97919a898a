#!/usr/bin/python3
"""notify-listen.py SOCKET LOG - the service manager's end of the notify
protocol: binds a unix datagram socket at SOCKET and appends each message
it gets to LOG as one line, "PID FIELD|FIELD|...", PID being the sender's
(SCM_CREDENTIALS), until it is killed."""

import socket
import struct
import sys


def main():
    path, log = sys.argv[1], sys.argv[2]
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
    sock.bind(path)
    size = struct.calcsize("3i")
    with open(log, "a", encoding="utf-8") as out:
        out.write("listening\n")
        out.flush()
        while True:
            msg, anc, _, _ = sock.recvmsg(4096, socket.CMSG_SPACE(size))
            pid = 0
            for level, kind, data in anc:
                if level == socket.SOL_SOCKET and kind == socket.SCM_CREDENTIALS:
                    pid = struct.unpack("3i", data[:size])[0]
            fields = msg.decode("utf-8", "replace").strip("\n").split("\n")
            out.write("%d %s\n" % (pid, "|".join(fields)))
            out.flush()


if __name__ == "__main__":
    main()
