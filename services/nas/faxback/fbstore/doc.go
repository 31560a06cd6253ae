// Package fbstore is the FaxBack profile's data model on a profile-neutral
// records.Store: it implements fbdata.Store, fbdata.BatchReader and
// fbdata.ChangeWatcher over any records backend, so that the FaxBack callers
// keep their contract while the backends learn nothing of FaxBack.
//
// Records are the messages of kradius.faxback.v1 (records.proto), of the
// kinds in Kinds. Every read decodes a message; for the in-process case a
// cache of decoded accounts and DIDs belongs here, kept by this layer's own
// writes and the change feed, since GetAccount, GetAccounts and Route are
// the hot path.
package fbstore
