; SPDX-License-Identifier: GPL-2.0-or-later
;
; Boot CD test: a whole ISO 9660 image with an El Torito "no emulation"
; boot entry, assembled by nasm alone (no mkisofs/xorriso at build time).
; SeaBIOS finds the boot record volume descriptor at sector 17, reads the
; boot catalog, loads the boot image to 07C0:0000 and jumps to it with the
; CD's drive number (E0h) in DL. The program then reads the CD through
; INT 13h AH=42h (2048-byte sectors, the BIOS's ATAPI READ(10) path) and
; reports on COM1:
;
;   [cdboot] started        the BIOS booted the image
;   [cdboot] edd            INT 13h AH=41h knows the drive
;   [cdboot] pvd            sector 16 holds the primary volume descriptor
;   [cdboot] data           sectors 24 and 25 read in one call match
;   VSA-CDBOOT-OK           then power off ("Shutdown" to port 8900h)
;
; A failure prints "VSA-CDBOOT-FAIL <step>" and powers off the same way.
;
; Image layout (2048-byte sectors): 0-15 system area (zeros), 16 primary
; volume descriptor, 17 El Torito boot record, 18 set terminator, 19/20
; the L and M path tables, 21 the root directory, 22 the boot catalog, 23
; the boot image (one sector, loaded as four 512-byte virtual sectors),
; 24-25 data sectors with known contents, 26-31 padding.

SECTOR          equ 2048
PVD_LBA         equ 16
BOOT_RECORD_LBA equ 17
TERMINATOR_LBA  equ 18
PATH_L_LBA      equ 19
PATH_M_LBA      equ 20
ROOT_LBA        equ 21
CATALOG_LBA     equ 22
BOOT_LBA        equ 23
DATA_LBA        equ 24
IMAGE_SECTORS   equ 32

COM1            equ 3F8h
BUFFER          equ 8000h
dap             equ 600h

%macro PRINT 1
        call print_inline
        db %1, 0
%endmacro
%macro FAIL 1
        call fail_inline
        db %1, 0
%endmacro

; Both-byte-order fields (ISO 9660 7.2.3, 7.3.3).
%macro both16 1
        dw %1
        db ((%1) >> 8) & 0FFh, (%1) & 0FFh
%endmacro
%macro both32 1
        dd %1
        db ((%1) >> 24) & 0FFh, ((%1) >> 16) & 0FFh, ((%1) >> 8) & 0FFh, (%1) & 0FFh
%endmacro
; A space-padded string field.
%macro text 2
        db %1
        times (%2) - %strlen(%1) db ' '
%endmacro
; A directory record (ISO 9660 9.1) for a directory; %2 is the identifier byte.
%macro dir_record 2
        db 34, 0
        both32 %1
        both32 SECTOR
        db 125, 1, 1, 0, 0, 0, 0        ; 2025-01-01 00:00:00 GMT
        db 02h, 0, 0                    ; directory
        both16 1
        db 1, %2
%endmacro

section iso start=0

        times PVD_LBA * SECTOR db 0

; ---- 16: primary volume descriptor (ISO 9660 8.4) ---------------------------
pvd:
        db 1, "CD001", 1, 0
        text "VSA", 32                  ; system identifier
        text "VSA_CDBOOT", 32           ; volume identifier
        times 8 db 0
        both32 IMAGE_SECTORS            ; volume space size
        times 32 db 0
        both16 1                        ; volume set size
        both16 1                        ; volume sequence number
        both16 SECTOR                   ; logical block size
        both32 10                       ; path table size
        dd PATH_L_LBA, 0
        db 0, 0, 0, PATH_M_LBA          ; big-endian
        dd 0
        dir_record ROOT_LBA, 0          ; the root directory
        text "", 128                    ; volume set
        text "", 128                    ; publisher
        text "", 128                    ; data preparer
        text "VSA TEST PROGRAMS", 128   ; application
        text "", 37 * 3                 ; copyright, abstract, bibliographic files
%rep 4                                  ; creation, modification, expiration, effective
        times 16 db '0'
        db 0
%endrep
        db 1, 0                         ; file structure version
        times PVD_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 17: El Torito boot record volume descriptor ----------------------------
        db 0, "CD001", 1
        db "EL TORITO SPECIFICATION"
        times 32 - 23 db 0
        times 32 db 0
        dd CATALOG_LBA
        times BOOT_RECORD_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 18: volume descriptor set terminator -----------------------------------
        db 255, "CD001", 1
        times TERMINATOR_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 19, 20: path tables (one entry: the root) ------------------------------
        db 1, 0
        dd ROOT_LBA
        dw 1
        db 0, 0
        times PATH_L_LBA * SECTOR + SECTOR - ($ - $$) db 0
        db 1, 0
        db 0, 0, 0, ROOT_LBA
        db 0, 1
        db 0, 0
        times PATH_M_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 21: root directory: "." and ".." ----------------------------------------
        dir_record ROOT_LBA, 0
        dir_record ROOT_LBA, 1
        times ROOT_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 22: boot catalog (El Torito 2.1, 2.2) -----------------------------------
; Validation entry: header 01h, platform 80x86, an ID string, a checksum
; word making the sixteen words sum to zero, then 55h AAh.
%define CATALOG_ID_WORDS (5356h + 0041h)   ; "VSA" as little-endian words
        db 1, 0, 0, 0
        db "VSA"
        times 24 - 3 db 0
        dw (10000h - ((0001h + CATALOG_ID_WORDS + 0AA55h) & 0FFFFh)) & 0FFFFh
        db 55h, 0AAh
; Initial/default entry: bootable, no emulation, load segment 0 (07C0h),
; four 512-byte virtual sectors from the boot image's LBA.
        db 88h, 0
        dw 0
        db 0, 0
        dw 4
        dd BOOT_LBA
        times CATALOG_LBA * SECTOR + SECTOR - ($ - $$) db 0

; ---- 23: the boot image --------------------------------------------------------
section boot start=BOOT_LBA*SECTOR vstart=7C00h
bits 16
        jmp 0:start                     ; SeaBIOS enters at 07C0:0000
start:
        cli
        xor ax, ax
        mov ds, ax
        mov es, ax
        mov ss, ax
        mov sp, 7C00h
        sti
        cld
        mov [drive], dl
        mov ah, 0                       ; INT 14h: COM1 9600 8N1
        mov al, 0E3h
        xor dx, dx
        int 14h
        PRINT `[cdboot] started\n`

        mov ah, 41h
        mov bx, 55AAh
        mov dl, [drive]
        int 13h
        jc .no_edd
        cmp bx, 0AA55h
        je .edd
.no_edd:
        FAIL "edd"
.edd:   PRINT `[cdboot] edd\n`

        mov ax, PVD_LBA
        mov cx, 1
        call read
        jc .read_fail
        mov si, cd001
        mov di, BUFFER + 1
        mov cx, 5
        repe cmpsb
        je .pvd
        FAIL "pvd"
.read_fail:
        FAIL "read"
.pvd:   PRINT `[cdboot] pvd\n`

        mov ax, DATA_LBA
        mov cx, 2
        call read
        jc .read_fail
        mov si, data_marker_0
        mov di, BUFFER
        mov cx, data_marker_len
        repe cmpsb
        jne .bad_data
        mov si, data_marker_1
        mov di, BUFFER + SECTOR
        mov cx, data_marker_len
        repe cmpsb
        jne .bad_data
        cmp byte [BUFFER + 2 * SECTOR - 1], 0A5h
        je .data
.bad_data:
        FAIL "data"
.data:  PRINT `[cdboot] data\n`
        PRINT `VSA-CDBOOT-OK\n`
        jmp power_off

; read: CX sectors from LBA AX to 0000:BUFFER through INT 13h AH=42h.
read:
        mov byte [dap], 16
        mov byte [dap + 1], 0
        mov [dap + 2], cx
        mov word [dap + 4], BUFFER
        mov word [dap + 6], 0
        mov [dap + 8], ax
        mov word [dap + 10], 0
        mov dword [dap + 12], 0
        mov ah, 42h
        mov dl, [drive]
        mov si, dap
        int 13h
        ret

; print_si: the NUL-terminated string at SI to COM1 (SI ends past the NUL).
print_si:
        push ax
        push cx
        push dx
.next:  lodsb
        test al, al
        jz .done
        mov ah, al
        mov dx, COM1 + 5
        mov cx, 0FFFFh
.wait:  in al, dx                       ; bounded wait for the transmitter
        test al, 20h
        jnz .ready
        loop .wait
.ready: mov al, ah
        mov dx, COM1
        out dx, al
        jmp .next
.done:  pop dx
        pop cx
        pop ax
        ret

; print_inline: the string after the caller's CALL; returns past it.
print_inline:
        pop si
        call print_si
        jmp si

; fail_inline: "VSA-CDBOOT-FAIL <the string after the CALL>", power off.
fail_inline:
        pop bx
        mov si, fail_text
        call print_si
        mov si, bx
        call print_si
        mov si, newline
        call print_si
        ; fall through
power_off:
        mov dx, 8900h
        mov si, shutdown_text
.next:  lodsb
        test al, al
        jz .halt
        out dx, al
        jmp .next
.halt:  cli
        hlt
        jmp .halt

drive:          db 0
cd001:          db "CD001"
data_marker_0:  db "VSA-CD-DATA-24!!"
data_marker_len equ $ - data_marker_0
data_marker_1:  db "VSA-CD-DATA-25!!"
shutdown_text:  db "Shutdown", 0
fail_text:      db "VSA-CDBOOT-FAIL ", 0
newline:        db 10, 0

        times SECTOR - ($ - $$) db 0

; ---- 24, 25: data sectors; padding up to IMAGE_SECTORS -------------------------
section data start=DATA_LBA*SECTOR
        db "VSA-CD-DATA-24!!"
        times SECTOR - ($ - $$) db 5Ah
        db "VSA-CD-DATA-25!!"
        times 2 * SECTOR - 1 - ($ - $$) db 5Ah
        db 0A5h
        times (IMAGE_SECTORS - DATA_LBA) * SECTOR - ($ - $$) db 0
