//! A TCP relay that makes a loopback client look remote to PostgreSQL's `pg_hba.conf`.
//!
//! Linux gives a connection to 127.0.0.2 the source address 127.0.0.1, so `pg_hba.conf` could
//! not tell `-h 127.0.0.2` from `-h 127.0.0.1`. The relay listens on 127.0.0.2 and opens each
//! upstream connection from a socket bound to 127.0.0.2, so the server sees a client address
//! that the official image's `host all all all scram-sha-256` line covers and its loopback
//! trust lines do not: what `-h cdb_postgres` from another container sees.

use std::io;
use std::net::{Ipv4Addr, Shutdown, SocketAddrV4, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// The address that stands for "another container".
pub(crate) const REMOTE_ADDR: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 2);

#[derive(Debug)]
pub(crate) struct Relay {
    port: u16,
    stop: Arc<AtomicBool>,
}

impl Relay {
    /// Listens on 127.0.0.2 and forwards to 127.0.0.1:`target`.
    pub fn start(target: u16) -> io::Result<Self> {
        let listener = TcpListener::bind((REMOTE_ADDR, 0))?;
        let port = listener.local_addr()?.port();
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        std::thread::spawn(move || {
            for client in listener.incoming() {
                if stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                match connect_from_remote(target) {
                    Ok(upstream) => pipe(client, upstream),
                    Err(_) => {
                        // The client sees the closed connection, as a refused upstream.
                        let _ = client.shutdown(Shutdown::Both);
                    }
                }
            }
        });
        Ok(Relay { port, stop })
    }

    pub fn port(&self) -> u16 {
        self.port
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // One last connection wakes the accept loop so it sees the flag and ends.
        // A loop already gone refuses it, which is as good.
        let _ = TcpStream::connect((REMOTE_ADDR, self.port));
    }
}

/// A connection to 127.0.0.1:`port` whose source address is 127.0.0.2.
fn connect_from_remote(port: u16) -> io::Result<TcpStream> {
    use rustix::net::{AddressFamily, SocketType};
    let fd = rustix::net::socket(AddressFamily::INET, SocketType::STREAM, None)?;
    rustix::net::bind(&fd, &SocketAddrV4::new(REMOTE_ADDR, 0))?;
    rustix::net::connect(&fd, &SocketAddrV4::new(Ipv4Addr::LOCALHOST, port))?;
    Ok(TcpStream::from(fd))
}

/// Copies both ways until either side closes, then closes both.
fn pipe(a: TcpStream, b: TcpStream) {
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    std::thread::spawn(move || copy_then_close(a, b));
    std::thread::spawn(move || copy_then_close(b2, a2));
}

fn copy_then_close(mut from: TcpStream, mut to: TcpStream) {
    // A relay passes bytes until either side ends, then closes both: an error is one more end.
    let _ = io::copy(&mut from, &mut to);
    let _ = to.shutdown(Shutdown::Both);
    let _ = from.shutdown(Shutdown::Both);
}
