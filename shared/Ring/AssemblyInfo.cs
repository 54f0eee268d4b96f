[assembly: System.Runtime.CompilerServices.InternalsVisibleTo("Disagg.Ring.Tests")]
