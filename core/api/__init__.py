"""The API kit every Concord resource is built from: one error shape and its
handler (`errors`), cursor pagination (`pagination`), a cursor-safe ordering filter
(`filters`), model permissions (`permissions`), fast serializing and identity URLs
(`serializers`), lists read as `values()` rows (`rows`), and the schema hooks that document all of it (`schema`)."""
