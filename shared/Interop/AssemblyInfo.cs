[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Disagg.Interop.Tests")]
