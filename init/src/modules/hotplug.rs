//! Hotplug: the kernel's uevents (netlink, NETLINK_KOBJECT_UEVENT) for
//! devices that appear after boot. PID 1 only reads them; for an `add`
//! with a MODALIAS it starts `/sbin/modprobe -q -b ALIAS` (our applet) as
//! a child, as udev does, so a slow module load never blocks PID 1.

use rustix::net::netlink::{self, SocketAddrNetlink};
use rustix::net::{bind, recv, socket_with, AddressFamily, RecvFlags, SocketFlags, SocketType};
use std::io;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

/// The kernel's multicast group for uevents.
const KERNEL_GROUP: u32 = 1;

/// One kernel uevent, as far as module loading cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Uevent {
    pub action: String,
    pub devpath: String,
    pub modalias: Option<String>,
}

pub struct Uevents {
    fd: OwnedFd,
}

impl Uevents {
    /// Opens a non-blocking socket subscribed to the kernel's uevents.
    pub fn open() -> io::Result<Uevents> {
        let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
        let fd = socket_with(
            AddressFamily::NETLINK,
            SocketType::DGRAM,
            flags,
            Some(netlink::KOBJECT_UEVENT),
        )?;
        bind(&fd, &SocketAddrNetlink::new(0, KERNEL_GROUP))?;
        Ok(Uevents { fd })
    }

    /// Reads every pending uevent.
    pub fn drain(&self) -> Vec<Uevent> {
        let mut out = Vec::new();
        let mut buf = vec![0u8; 8192];
        while let Ok((n, _)) = recv(&self.fd, &mut buf[..], RecvFlags::empty()) {
            if let Some(ev) = buf.get(..n).and_then(parse) {
                out.push(ev);
            }
        }
        out
    }
}

impl AsFd for Uevents {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Parses one kernel uevent: `ACTION@DEVPATH\0KEY=VALUE\0...`. Messages
/// from udev ("libudev" header) and garbage are ignored.
pub fn parse(msg: &[u8]) -> Option<Uevent> {
    let mut parts = msg.split(|b| *b == 0).filter(|p| !p.is_empty());
    let head = std::str::from_utf8(parts.next()?).ok()?;
    let (action, devpath) = head.split_once('@')?;
    let mut modalias = None;
    for field in parts {
        if let Some(v) = field.strip_prefix(b"MODALIAS=") {
            modalias = std::str::from_utf8(v).ok().map(str::to_string);
        }
    }
    Some(Uevent {
        action: action.to_string(),
        devpath: devpath.to_string(),
        modalias,
    })
}

/// The modalias to load modules for, if this event asks for any.
pub fn wanted(ev: &Uevent) -> Option<&str> {
    match (ev.action.as_str(), &ev.modalias) {
        ("add", Some(alias)) if !alias.is_empty() => Some(alias),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kernel_uevents() {
        let msg = b"add@/devices/pci0000:00/0000:00:05.0\0ACTION=add\0DEVPATH=/devices/pci0000:00/0000:00:05.0\0SUBSYSTEM=pci\0MODALIAS=pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02\0SEQNUM=1234\0";
        let ev = parse(msg).unwrap();
        assert_eq!(ev.action, "add");
        assert_eq!(ev.devpath, "/devices/pci0000:00/0000:00:05.0");
        assert_eq!(
            wanted(&ev),
            Some("pci:v00001B36d00000010sv00001AF4sd00001100bc01sc08i02")
        );
        let rm = parse(b"remove@/devices/x\0MODALIAS=pci:v1\0").unwrap();
        assert_eq!(wanted(&rm), None);
        let no_alias = parse(b"add@/devices/virtual/block/loop0\0ACTION=add\0").unwrap();
        assert_eq!(wanted(&no_alias), None);
    }

    #[test]
    fn ignores_garbage_and_udev_messages() {
        assert_eq!(parse(b""), None);
        assert_eq!(parse(b"\0\0"), None);
        assert_eq!(parse(b"libudev\0\xfe\xed\xca\xfe"), None);
        assert_eq!(parse(b"\xff\xfe@x"), None);
    }
}
