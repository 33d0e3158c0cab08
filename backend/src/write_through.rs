//! One `AsyncWrite` for the socket wrappers that change only how the socket is read
//! ([`crate::first_read::Prefixed`], [`crate::read_ahead::ReadAhead`], [`crate::frame_gate::FrameGate`]):
//! every write goes straight to the wrapped socket, `inner`.

/// Implements `AsyncWrite` for `$wrapper<Io>` by handing every call to its `inner` field.
macro_rules! write_through_to_inner {
    ($wrapper:ident) => {
        impl<Io: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for $wrapper<Io> {
            fn poll_write(
                mut self: std::pin::Pin<&mut Self>,
                context: &mut std::task::Context<'_>,
                bytes: &[u8],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.inner).poll_write(context, bytes)
            }

            fn poll_flush(
                mut self: std::pin::Pin<&mut Self>,
                context: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.inner).poll_flush(context)
            }

            fn poll_shutdown(
                mut self: std::pin::Pin<&mut Self>,
                context: &mut std::task::Context<'_>,
            ) -> std::task::Poll<std::io::Result<()>> {
                std::pin::Pin::new(&mut self.inner).poll_shutdown(context)
            }

            fn poll_write_vectored(
                mut self: std::pin::Pin<&mut Self>,
                context: &mut std::task::Context<'_>,
                buffers: &[std::io::IoSlice<'_>],
            ) -> std::task::Poll<std::io::Result<usize>> {
                std::pin::Pin::new(&mut self.inner).poll_write_vectored(context, buffers)
            }

            fn is_write_vectored(&self) -> bool {
                self.inner.is_write_vectored()
            }
        }
    };
}
